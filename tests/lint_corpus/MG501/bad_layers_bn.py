import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 10])
is_training = tf.placeholder(tf.bool)
h = tf.layers.batch_normalization(tf.layers.dense(x, 32), training=is_training)  # expect: MG501
loss = tf.reduce_mean(tf.square(h))
train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)

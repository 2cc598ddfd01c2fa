import tensorflow as tf

x = tf.placeholder(tf.float32, [None, 10])
is_training = tf.placeholder(tf.bool)
h = tf.layers.batch_normalization(x, training=is_training)
loss = tf.reduce_mean(h)
update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    train_op = tf.train.AdamOptimizer().minimize(loss)

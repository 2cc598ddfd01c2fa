import tensorflow as tf


def model(x):
    h = tf.layers.dense(x, 64)
    return tf.layers.dropout(h, rate=0.5)  # expect: MG502


loss = tf.reduce_mean(model(tf.placeholder(tf.float32, [None, 8])))
train_op = tf.train.AdamOptimizer().minimize(loss)

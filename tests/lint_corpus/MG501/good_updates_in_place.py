import tensorflow as tf


def net(x, is_training):
    return tf.contrib.layers.batch_norm(x, is_training=is_training, updates_collections=None)


op = tf.train.AdamOptimizer().minimize(tf.reduce_sum(net(tf.placeholder(tf.float32), True)))

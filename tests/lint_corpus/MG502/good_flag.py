import tensorflow as tf


def model(x, is_training):
    h = tf.layers.dense(x, 64)
    return tf.layers.dropout(h, rate=0.5, training=is_training)

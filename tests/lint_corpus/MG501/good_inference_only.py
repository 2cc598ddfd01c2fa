import tensorflow as tf


def export(x):
    return tf.layers.batch_normalization(x, training=False)

import tensorflow.compat.v1 as tf


def build(x, training):
    y = tf.layers.batch_normalization(x, training=training)  # expect: MG501
    return tf.reduce_sum(y)


loss = build(tf.placeholder(tf.float32), tf.placeholder(tf.bool))
step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)

import tensorflow as tf


def encoder(x):
    return tf.layers.batch_normalization(x, training=True)  # expect: MG502


loss = tf.reduce_mean(encoder(tf.placeholder(tf.float32)))
update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
with tf.control_dependencies(update_ops):
    train_op = tf.train.AdamOptimizer().minimize(loss)

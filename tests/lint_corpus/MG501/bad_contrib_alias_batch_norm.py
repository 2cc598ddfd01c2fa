"""TF1 network built through a module-level alias of tf.contrib.layers; its batch norm keeps
the default updates_collections (UPDATE_OPS), but the train op never depends on them."""
import tensorflow as tf

layers = tf.contrib.layers


def net(x, is_training):
    h = layers.conv2d(x, 32, [3, 3], activation_fn=None)
    h = layers.batch_norm(h, is_training=is_training, scale=True)  # expect: MG501
    return layers.fully_connected(tf.reduce_mean(h, [1, 2]), 2, activation_fn=None)


def build(x, y, lr=0.01):
    logits = net(x, is_training=True)
    loss = tf.losses.sparse_softmax_cross_entropy(y, logits)
    return tf.train.MomentumOptimizer(lr, 0.9).minimize(loss)

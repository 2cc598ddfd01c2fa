import tensorflow as tf


def net(x, is_training):
    return tf.contrib.layers.batch_norm(x, is_training=is_training, decay=0.99)  # expect: MG501


loss = tf.reduce_mean(net(tf.placeholder(tf.float32), True))
grads = tf.train.MomentumOptimizer(0.1, 0.9).compute_gradients(loss)
op = tf.train.MomentumOptimizer(0.1, 0.9).apply_gradients(grads)

"""Wide ResNet classifier wrapped in a small estimator-like class (TF 1.x).

Used as the supervised baseline for the semi-supervised experiments.
"""
import numpy as np
import tensorflow as tf


def conv(x, filters, stride=1, name=None):
    return tf.layers.conv2d(x, filters, 3, stride, "same", use_bias=False,
                            kernel_initializer=tf.variance_scaling_initializer(2.0), name=name)


def bn_relu(x, is_training):
    x = tf.layers.batch_normalization(x, training=is_training, momentum=0.999)  # expect: MG501
    return tf.nn.leaky_relu(x, 0.1)


def wide_block(x, filters, stride, is_training):
    h = bn_relu(x, is_training)
    shortcut = x if x.shape[-1] == filters and stride == 1 else conv(h, filters, stride)
    h = conv(h, filters, stride)
    h = conv(bn_relu(h, is_training), filters)
    return h + shortcut


def wrn_28(x, is_training, n_classes=10, width=2):
    h = conv(x, 16)
    for stage, filters in enumerate((16 * width, 32 * width, 64 * width)):
        for i in range(4):
            stride = 2 if (i == 0 and stage > 0) else 1
            h = wide_block(h, filters, stride, is_training)
    h = bn_relu(h, is_training)
    h = tf.reduce_mean(h, axis=[1, 2])
    return tf.layers.dense(h, n_classes)


class WRNClassifier(object):
    def __init__(self, lr=0.03, wd=5e-4, batch_size=64):
        self.lr, self.wd, self.batch_size = lr, wd, batch_size
        self._graph = tf.Graph()
        self._session = None

    def _build(self):
        with self._graph.as_default():
            self.x = tf.placeholder(tf.float32, [None, 32, 32, 3])
            self.y = tf.placeholder(tf.int64, [None])
            self.training = tf.placeholder_with_default(False, [])
            logits = wrn_28(self.x, self.training)
            self.probs = tf.nn.softmax(logits)
            xent = tf.losses.sparse_softmax_cross_entropy(self.y, logits)
            l2 = tf.add_n([tf.nn.l2_loss(v) for v in tf.trainable_variables() if "kernel" in v.name])
            self.loss = xent + self.wd * l2
            self.global_step = tf.train.get_or_create_global_step()
            self._opt = tf.train.MomentumOptimizer(self.lr, 0.9, use_nesterov=True)

        # make sure batch-norm moving averages get updated
        extra_update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)

        with self._graph.as_default():
            with tf.control_dependencies(extra_update_ops):
                self.train_op = self._opt.minimize(self.loss, global_step=self.global_step)
            self._init = tf.global_variables_initializer()
            self._saver = tf.train.Saver()

    def fit(self, X, Y, epochs=100, X_val=None, Y_val=None):
        self._build()
        self._session = tf.Session(graph=self._graph)
        self._session.run(self._init)
        n = len(X)
        for epoch in range(epochs):
            order = np.random.permutation(n)
            for start in range(0, n - self.batch_size + 1, self.batch_size):
                idx = order[start:start + self.batch_size]
                self._session.run(self.train_op, {self.x: X[idx], self.y: Y[idx], self.training: True})
            if X_val is not None:
                acc = np.mean(self.predict(X_val) == Y_val)
                print("epoch %d val acc %.4f" % (epoch, acc))
        return self

    def predict_proba(self, X, chunk=500):
        out = [self._session.run(self.probs, {self.x: X[i:i + chunk]}) for i in range(0, len(X), chunk)]
        return np.concatenate(out)

    def predict(self, X):
        return self.predict_proba(X).argmax(1)

    def save(self, path):
        self._saver.save(self._session, path)

"""Estimator-like wrapper around a TF1 graph: MLP + batch norm + dropout.

Works with tensorflow 1.15 (or tf.compat.v1 with v2 behaviour disabled).
"""
import numpy as np
import tensorflow as tf


class BNClassifier(object):
    def __init__(self, hidden=(300, 100), dropout_rate=0.3, bn_momentum=0.9, learning_rate=1e-3,
                 batch_size=64, seed=42):
        self.hidden = hidden
        self.dropout_rate = dropout_rate
        self.bn_momentum = bn_momentum
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.seed = seed
        self._session = None

    def _dnn(self, X, training):
        h = X
        for i, units in enumerate(self.hidden):
            h = tf.layers.dense(h, units, name="hidden%d" % (i + 1))
            h = tf.layers.batch_normalization(h, momentum=self.bn_momentum, training=training,
                                              name="bn%d" % (i + 1))
            h = tf.nn.elu(h)
            h = tf.layers.dropout(h, self.dropout_rate, training=training)
        return h

    def _build_graph(self, n_inputs, n_outputs):
        tf.set_random_seed(self.seed)
        X = tf.placeholder(tf.float32, shape=(None, n_inputs), name="X")
        y = tf.placeholder(tf.int32, shape=(None,), name="y")
        training = tf.placeholder_with_default(False, shape=(), name="training")

        logits = tf.layers.dense(self._dnn(X, training), n_outputs, name="logits")
        probs = tf.nn.softmax(logits, name="Y_proba")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

        update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        with tf.control_dependencies(update_ops):
            train_op = tf.train.AdamOptimizer(self.learning_rate).minimize(loss)

        correct = tf.nn.in_top_k(logits, y, 1)
        accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
        self._X, self._y, self._training = X, y, training
        self._probs, self._loss, self._train_op, self._accuracy = probs, loss, train_op, accuracy
        self._init = tf.global_variables_initializer()
        self._saver = tf.train.Saver()

    def fit(self, X, y, n_epochs=20, X_valid=None, y_valid=None):
        self.classes_ = np.unique(y)
        y_idx = np.searchsorted(self.classes_, y)
        self._graph = tf.Graph()
        with self._graph.as_default():
            self._build_graph(X.shape[1], len(self.classes_))
        self._session = tf.Session(graph=self._graph)
        self._session.run(self._init)
        rnd = np.random.RandomState(self.seed)
        for epoch in range(n_epochs):
            idx = rnd.permutation(len(X))
            for start in range(0, len(X), self.batch_size):
                b = idx[start:start + self.batch_size]
                self._session.run(self._train_op,
                                  feed_dict={self._X: X[b], self._y: y_idx[b], self._training: True})
            if X_valid is not None:
                acc, l = self._session.run([self._accuracy, self._loss],
                                           feed_dict={self._X: X_valid,
                                                      self._y: np.searchsorted(self.classes_, y_valid)})
                print("epoch %d: valid loss %.4f acc %.4f" % (epoch, l, acc))
        return self

    def predict_proba(self, X):
        if self._session is None:
            raise RuntimeError("call fit() first")
        return self._session.run(self._probs, feed_dict={self._X: X})

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def save(self, path):
        self._saver.save(self._session, path)


if __name__ == "__main__":
    (x_tr, y_tr), (x_te, y_te) = tf.keras.datasets.mnist.load_data()
    x_tr = x_tr.reshape(-1, 784).astype(np.float32) / 255.0
    x_te = x_te.reshape(-1, 784).astype(np.float32) / 255.0
    clf = BNClassifier().fit(x_tr[:55000], y_tr[:55000], X_valid=x_tr[55000:], y_valid=y_tr[55000:])
    print("test accuracy:", np.mean(clf.predict(x_te) == y_te))

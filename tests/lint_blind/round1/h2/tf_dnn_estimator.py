"""A scikit-learn compatible DNN classifier built on a private TF1 graph.

    clf = BNDNNClassifier(n_hidden_layers=4, n_neurons=100, batch_norm_momentum=0.95)
    clf.fit(X_train, y_train, n_epochs=40, X_valid=X_valid, y_valid=y_valid)
"""
import numpy as np
import tensorflow as tf
from sklearn.base import BaseEstimator, ClassifierMixin


class BNDNNClassifier(BaseEstimator, ClassifierMixin):
    def __init__(self, n_hidden_layers=5, n_neurons=100, learning_rate=0.01, batch_size=64,
                 batch_norm_momentum=0.9, dropout_rate=None, random_state=None):
        self.n_hidden_layers = n_hidden_layers
        self.n_neurons = n_neurons
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.batch_norm_momentum = batch_norm_momentum
        self.dropout_rate = dropout_rate
        self.random_state = random_state
        self._session = None

    def _dnn(self, inputs):
        x = inputs
        for layer in range(self.n_hidden_layers):
            if self.dropout_rate:
                x = tf.layers.dropout(x, self.dropout_rate, training=self._training)
            x = tf.layers.dense(x, self.n_neurons, kernel_initializer=tf.variance_scaling_initializer(),
                                name=f"hidden{layer + 1}")
            x = tf.layers.batch_normalization(x, momentum=self.batch_norm_momentum, training=self._training)  # expect: MG501
            x = tf.nn.elu(x, name=f"hidden{layer + 1}_out")
        return x

    def _build_graph(self, n_inputs, n_outputs):
        if self.random_state is not None:
            tf.set_random_seed(self.random_state)
            np.random.seed(self.random_state)
        X = tf.placeholder(tf.float32, shape=(None, n_inputs), name="X")
        y = tf.placeholder(tf.int32, shape=(None,), name="y")
        self._training = tf.placeholder_with_default(False, shape=(), name="training")
        logits = tf.layers.dense(self._dnn(X), n_outputs, name="logits")
        probs = tf.nn.softmax(logits, name="Y_proba")
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        training_op = tf.train.AdamOptimizer(self.learning_rate).minimize(loss)
        accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, y, 1), tf.float32))
        self._X, self._y = X, y
        self._Y_proba, self._loss, self._training_op, self._accuracy = probs, loss, training_op, accuracy
        self._init = tf.global_variables_initializer()
        self._saver = tf.train.Saver()

    def fit(self, X, y, n_epochs=100, X_valid=None, y_valid=None):
        self.close_session()
        self.classes_ = np.unique(y)
        class_to_index = {c: i for i, c in enumerate(self.classes_)}
        y = np.array([class_to_index[c] for c in y], dtype=np.int32)
        self._graph = tf.Graph()
        with self._graph.as_default():
            self._build_graph(X.shape[1], len(self.classes_))
        # moving mean / variance of the BN layers
        extra_update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)

        self._session = tf.Session(graph=self._graph)
        with self._session.as_default() as sess:
            self._init.run()
            for epoch in range(n_epochs):
                perm = np.random.permutation(len(X))
                for idx in np.array_split(perm, max(len(X) // self.batch_size, 1)):
                    feed = {self._X: X[idx], self._y: y[idx], self._training: True}
                    sess.run([self._training_op, extra_update_ops], feed_dict=feed)
                if X_valid is not None:
                    loss_val, acc_val = sess.run([self._loss, self._accuracy],
                                                 feed_dict={self._X: X_valid, self._y: y_valid})
                    print(f"{epoch}\tvalid loss {loss_val:.6f}\tacc {acc_val * 100:.2f}%")
        return self

    def predict_proba(self, X):
        if self._session is None:
            raise RuntimeError(f"this {self.__class__.__name__} is not fitted yet")
        with self._session.as_default():
            return self._Y_proba.eval(feed_dict={self._X: X})

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def close_session(self):
        if self._session:
            self._session.close()
            self._session = None

    def save(self, path):
        self._saver.save(self._session, path)

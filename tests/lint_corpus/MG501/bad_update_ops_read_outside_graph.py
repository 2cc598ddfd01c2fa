"""A scikit-learn style TF1 classifier on a private graph. The batch-norm update ops are
collected after leaving `with self._graph.as_default():`, from the default graph, whose
UPDATE_OPS collection is empty: the train op depends on nothing and the moving statistics
never change."""
import tensorflow as tf


class DNNClassifier:
    def __init__(self, n_hidden=3, width=100, lr=0.01):
        self.n_hidden, self.width, self.lr = n_hidden, width, lr
        self._graph = tf.Graph()

    def _net(self, x, training):
        for i in range(self.n_hidden):
            x = tf.layers.dense(x, self.width, name=f"dense{i}")
            x = tf.layers.batch_normalization(x, training=training)  # expect: MG501
            x = tf.nn.elu(x)
        return tf.layers.dense(x, 10)

    def build(self, n_inputs):
        with self._graph.as_default():
            self.x = tf.placeholder(tf.float32, (None, n_inputs))
            self.y = tf.placeholder(tf.int64, (None,))
            self.training = tf.placeholder_with_default(False, ())
            logits = self._net(self.x, self.training)
            self.loss = tf.losses.sparse_softmax_cross_entropy(self.y, logits)
        update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        with self._graph.as_default():
            with tf.control_dependencies(update_ops):
                self.train_op = tf.train.AdamOptimizer(self.lr).minimize(self.loss)

"""Character-level CNN for text classification (Zhang et al. 2015), TF 1.x graph mode."""
import tensorflow as tf

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"/\\|_@#$%^&*~`+=<>()[]{} "


class CharCNN(object):
    def __init__(self, n_classes, seq_len=1014, conv_cfg=None, fc_units=1024, lr=1e-3):
        self.conv_cfg = conv_cfg or [(256, 7, 3), (256, 7, 3), (256, 3, None),
                                     (256, 3, None), (256, 3, None), (256, 3, 3)]
        self.inputs = tf.placeholder(tf.int32, [None, seq_len], name="chars")
        self.labels = tf.placeholder(tf.int32, [None], name="labels")
        self.is_training = tf.placeholder(tf.bool, name="is_training")

        x = tf.one_hot(self.inputs, depth=len(ALPHABET) + 1)
        for i, (filters, width, pool) in enumerate(self.conv_cfg):
            with tf.variable_scope("conv%d" % i):
                x = tf.layers.conv1d(x, filters, width, padding="valid", use_bias=False)
                x = tf.contrib.layers.batch_norm(x, is_training=self.is_training, scale=True)  # expect: MG501
                x = tf.nn.relu(x)
                if pool:
                    x = tf.layers.max_pooling1d(x, pool, pool)

        x = tf.layers.flatten(x)
        for j in range(2):
            x = tf.layers.dense(x, fc_units, activation=tf.nn.relu, name="fc%d" % j)
            x = tf.layers.dropout(x, rate=0.5, name="drop%d" % j)  # expect: MG502
        self.logits = tf.layers.dense(x, n_classes, name="out")

        self.loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=self.labels, logits=self.logits))
        self.global_step = tf.Variable(0, trainable=False, name="global_step")
        opt = tf.train.AdamOptimizer(lr)
        grads_and_vars = opt.compute_gradients(self.loss)
        clipped = [(tf.clip_by_norm(g, 5.0), v) for g, v in grads_and_vars if g is not None]
        self.train_op = opt.apply_gradients(clipped, global_step=self.global_step)
        correct = tf.equal(tf.argmax(self.logits, 1, output_type=tf.int32), self.labels)
        self.accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    def fit_batch(self, sess, x, y):
        feed = {self.inputs: x, self.labels: y, self.is_training: True}
        _, loss, step = sess.run([self.train_op, self.loss, self.global_step], feed)
        return loss, step

    def score(self, sess, x, y):
        return sess.run(self.accuracy, {self.inputs: x, self.labels: y, self.is_training: False})


def encode(texts, seq_len=1014):
    table = {c: i + 1 for i, c in enumerate(ALPHABET)}
    out = []
    for t in texts:
        ids = [table.get(c, 0) for c in t.lower()[:seq_len]]
        out.append(ids + [0] * (seq_len - len(ids)))
    return out


if __name__ == "__main__":
    from agnews import load_split, batches

    train, test = load_split("train"), load_split("test")
    model = CharCNN(n_classes=4)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(10):
            for texts, ys in batches(train, 128, shuffle=True):
                loss, step = model.fit_batch(sess, encode(texts), ys)
            accs = [model.score(sess, encode(t), y) for t, y in batches(test, 512)]
            print("epoch", epoch, "loss", loss, "test acc", sum(accs) / len(accs))

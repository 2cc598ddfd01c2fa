import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

from tf_augment import simclr_augment

AUTOTUNE = tf.data.AUTOTUNE


def encoder_net(width=128):
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(width, 3, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2D(width, 3, strides=2, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU(),
        layers.Conv2D(2 * width, 3, strides=2, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU(),
        layers.GlobalAveragePooling2D(),
    ], name="encoder")


def projection_head(width=128, out=64):
    return keras.Sequential([
        layers.Dense(width), layers.BatchNormalization(), layers.ReLU(), layers.Dense(out),
    ], name="projector")


def nt_xent(z1, z2, temperature=0.1):
    z1 = tf.math.l2_normalize(z1, 1)
    z2 = tf.math.l2_normalize(z2, 1)
    n = tf.shape(z1)[0]
    z = tf.concat([z1, z2], 0)
    sim = tf.matmul(z, z, transpose_b=True) / temperature
    sim = sim - tf.eye(2 * n) * 1e9
    targets = tf.concat([tf.range(n, 2 * n), tf.range(0, n)], 0)
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(targets, sim, from_logits=True))


class ContrastiveLearner(keras.Model):
    def __init__(self):
        super().__init__()
        self.encoder = encoder_net()
        self.projector = projection_head()
        self.probe = keras.Sequential([layers.Dense(10)], name="linear_probe")
        self.loss_tracker = keras.metrics.Mean(name="c_loss")
        self.probe_acc = keras.metrics.SparseCategoricalAccuracy(name="probe_acc")

    def compile(self, c_opt, p_opt, **kw):
        super().compile(**kw)
        self.c_opt, self.p_opt = c_opt, p_opt

    @property
    def metrics(self):
        return [self.loss_tracker, self.probe_acc]

    def train_step(self, data):
        (unlabeled, _), (labeled, labels) = data
        v1, v2 = simclr_augment(unlabeled), simclr_augment(unlabeled)
        with tf.GradientTape() as tape:
            z1 = self.projector(self.encoder(v1, training=True), training=True)
            z2 = self.projector(self.encoder(v2, training=True), training=True)
            loss = nt_xent(z1, z2)
        vars_ = self.encoder.trainable_weights + self.projector.trainable_weights
        self.c_opt.apply_gradients(zip(tape.gradient(loss, vars_), vars_))
        self.loss_tracker.update_state(loss)

        # online linear probe on frozen features (encoder in inference mode)
        feats = self.encoder(labeled, training=False)
        with tf.GradientTape() as tape:
            logits = self.probe(tf.stop_gradient(feats), training=True)
            p_loss = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        self.p_opt.apply_gradients(zip(tape.gradient(p_loss, self.probe.trainable_weights),
                                       self.probe.trainable_weights))
        self.probe_acc.update_state(labels, logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        images, labels = data
        logits = self.probe(self.encoder(images, training=False), training=False)
        self.probe_acc.update_state(labels, logits)
        return {"probe_acc": self.probe_acc.result()}


def make_datasets(batch=512):
    (x, y), (xt, yt) = keras.datasets.cifar10.load_data()
    x, xt = x.astype("float32") / 255.0, xt.astype("float32") / 255.0
    unl = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(50000).batch(batch, drop_remainder=True)
    lab = tf.data.Dataset.from_tensor_slices((x[:5000], y[:5000])).shuffle(5000).repeat().batch(batch)
    train = tf.data.Dataset.zip((unl, lab)).prefetch(AUTOTUNE)
    test = tf.data.Dataset.from_tensor_slices((xt, yt)).batch(1000).prefetch(AUTOTUNE)
    return train, test


if __name__ == "__main__":
    train_ds, test_ds = make_datasets()
    learner = ContrastiveLearner()
    learner.compile(c_opt=keras.optimizers.Adam(1e-3), p_opt=keras.optimizers.Adam(1e-3))
    learner.fit(train_ds, epochs=100, validation_data=test_ds)
    learner.encoder.save_weights("simclr_encoder.weights.h5")

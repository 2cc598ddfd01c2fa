"""CIFAR-10, subclassed Keras model, custom tf.function loop with a
per-epoch validation pass.  Based on my notes from the TF2 course."""
import time

import tensorflow as tf
from tensorflow.keras import Model, layers


class SmallVGG(Model):
    def __init__(self, n_classes=10):
        super().__init__()
        self.blocks = []
        for filters in (32, 64, 128):
            self.blocks.append([
                layers.Conv2D(filters, 3, padding="same", use_bias=False),
                layers.BatchNormalization(),
                layers.Conv2D(filters, 3, padding="same", use_bias=False),
                layers.BatchNormalization(),
                layers.MaxPool2D(),
                layers.Dropout(0.2),
            ])
        self.flat = layers.Flatten()
        self.fc = layers.Dense(256, activation="relu")
        self.drop = layers.Dropout(0.5)
        self.out = layers.Dense(n_classes)

    def call(self, x, training=False):
        for conv1, bn1, conv2, bn2, pool, drop in self.blocks:
            x = tf.nn.relu(bn1(conv1(x), training=training))
            x = tf.nn.relu(bn2(conv2(x), training=training))
            x = drop(pool(x), training=training)
        x = self.drop(self.fc(self.flat(x)), training=training)
        return self.out(x)


(xtr, ytr), (xte, yte) = tf.keras.datasets.cifar10.load_data()
xtr, xte = xtr.astype("float32") / 255.0, xte.astype("float32") / 255.0
ds_train = tf.data.Dataset.from_tensor_slices((xtr, ytr)).shuffle(50000).batch(128).prefetch(2)
ds_test = tf.data.Dataset.from_tensor_slices((xte, yte)).batch(512)

net = SmallVGG()
sce = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
opt = tf.keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)
m_loss = tf.keras.metrics.Mean()
m_acc = tf.keras.metrics.SparseCategoricalAccuracy()
v_acc = tf.keras.metrics.SparseCategoricalAccuracy()


@tf.function
def fit_batch(x, y):
    x = tf.image.random_flip_left_right(x)
    with tf.GradientTape() as tape:
        logits = net(x, training=True)
        loss = sce(y, logits) + tf.add_n(net.losses) if net.losses else sce(y, logits)
    grads = tape.gradient(loss, net.trainable_variables)
    opt.apply_gradients(zip(grads, net.trainable_variables))
    m_loss.update_state(loss)
    m_acc.update_state(y, logits)


@tf.function
def score_batch(x, y):
    v_acc.update_state(y, net(x, training=False))


for epoch in range(30):
    t0 = time.time()
    for m in (m_loss, m_acc, v_acc):
        m.reset_state()
    for x, y in ds_train:
        fit_batch(x, y)
    for x, y in ds_test:
        score_batch(x, y)
    print(f"epoch {epoch:2d} ({time.time() - t0:.0f}s) loss {m_loss.result():.3f} "
          f"acc {m_acc.result():.3f} test_acc {v_acc.result():.3f}")

net.save_weights("smallvgg.weights.h5")

"""Human-activity recognition (UCI HAR) with a small 1-D CNN, TF 2.x custom loop."""
import argparse
import time

import numpy as np
import tensorflow as tf
from tensorflow.keras import layers


class ConvUnit(layers.Layer):
    def __init__(self, filters, kernel, **kw):
        super().__init__(**kw)
        self.conv = layers.Conv1D(filters, kernel, padding="same", use_bias=False)
        self.bn = layers.BatchNormalization()
        self.act = layers.ReLU()

    def call(self, x, training=None):
        return self.act(self.bn(self.conv(x), training=training))


class HARNet(tf.keras.Model):
    def __init__(self, n_classes=6, width=64, drop=0.3):
        super().__init__()
        self.units_ = [ConvUnit(width, 7), ConvUnit(width * 2, 5), ConvUnit(width * 2, 3)]
        self.pool = layers.GlobalAveragePooling1D()
        self.drop = layers.Dropout(drop)
        self.out = layers.Dense(n_classes)

    def call(self, x, training=None):
        for u in self.units_:
            x = u(x, training=training)
        x = self.pool(x)
        x = self.drop(x, training=training)
        return self.out(x)


def load_har(root):
    xtr = np.load(f"{root}/X_train.npy").astype("float32")
    ytr = np.load(f"{root}/y_train.npy").astype("int64") - 1
    xte = np.load(f"{root}/X_test.npy").astype("float32")
    yte = np.load(f"{root}/y_test.npy").astype("int64") - 1
    mu, sd = xtr.mean((0, 1)), xtr.std((0, 1)) + 1e-6
    return (xtr - mu) / sd, ytr, (xte - mu) / sd, yte


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root", default="data/har")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--bs", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    a = p.parse_args()

    xtr, ytr, xte, yte = load_har(a.root)
    train_ds = tf.data.Dataset.from_tensor_slices((xtr, ytr)).shuffle(8192).batch(a.bs).prefetch(2)
    test_ds = tf.data.Dataset.from_tensor_slices((xte, yte)).batch(512)

    net = HARNet()
    steps = a.epochs * int(np.ceil(len(xtr) / a.bs))
    opt = tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(a.lr, steps))
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    tr_loss = tf.keras.metrics.Mean()
    tr_acc = tf.keras.metrics.SparseCategoricalAccuracy()
    te_acc = tf.keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = net(x)  # expect: MG502
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        tr_loss.update_state(loss)
        tr_acc.update_state(y, logits)

    @tf.function
    def test_step(x, y):
        te_acc.update_state(y, net(x, training=False))

    for epoch in range(a.epochs):
        t0 = time.time()
        for m in (tr_loss, tr_acc, te_acc):
            m.reset_states()
        for x, y in train_ds:
            train_step(x, y)
        for x, y in test_ds:
            test_step(x, y)
        print(f"epoch {epoch + 1:02d} loss {tr_loss.result():.4f} acc {tr_acc.result():.4f} "
              f"test {te_acc.result():.4f} ({time.time() - t0:.1f}s)")

    net.save_weights("har_cnn.weights.h5")


if __name__ == "__main__":
    main()

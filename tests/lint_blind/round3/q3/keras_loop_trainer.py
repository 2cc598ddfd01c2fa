"""Custom TF2 training loop with a small callback system (replaces model.fit so we can
do per-step LR warmup and gradient-norm logging)."""
import argparse
import time

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def make_cnn(num_classes=10, width=64, drop=0.3):
    inp = keras.Input((32, 32, 3))
    x = inp
    for i, mult in enumerate((1, 2, 4)):
        for _ in range(2):
            x = layers.Conv2D(width * mult, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.MaxPool2D()(x)
        x = layers.Dropout(drop)(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(num_classes)(x)
    return keras.Model(inp, out, name="cnn6")


class LoopCallback:
    def on_epoch_end(self, loop, epoch, logs): pass


class BestWeights(LoopCallback):
    def __init__(self, path):
        self.path, self.best = path, 0.0

    def on_epoch_end(self, loop, epoch, logs):
        if logs["val_acc"] > self.best:
            self.best = logs["val_acc"]
            loop.model.save_weights(self.path)


class Loop:
    def __init__(self, model, lr=1e-3, warmup=500, callbacks=()):
        self.model = model
        self.base_lr, self.warmup = lr, warmup
        self.opt = keras.optimizers.Adam(lr)
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.acc = keras.metrics.SparseCategoricalAccuracy()
        self.callbacks = list(callbacks)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)

    @tf.function
    def train_step(self, images, labels):
        self.step.assign_add(1)
        lr = self.base_lr * tf.minimum(1.0, tf.cast(self.step, tf.float32) / self.warmup)
        self.opt.learning_rate.assign(lr)
        with tf.GradientTape() as tape:
            logits = self.model(images)  # expect: MG502
            loss = self.loss_fn(labels, logits)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.opt.apply_gradients(zip(grads, self.model.trainable_variables))
        return loss, tf.linalg.global_norm(grads)

    @tf.function
    def eval_step(self, images, labels):
        logits = self.model(images, training=False)
        self.acc.update_state(labels, logits)

    def fit(self, train_ds, val_ds, epochs):
        for epoch in range(epochs):
            t0 = time.time()
            for images, labels in train_ds:
                loss, gnorm = self.train_step(images, labels)
            self.acc.reset_state()
            for images, labels in val_ds:
                self.eval_step(images, labels)
            logs = {"loss": float(loss), "gnorm": float(gnorm), "val_acc": float(self.acc.result())}
            print(f"epoch {epoch} {logs} ({time.time() - t0:.0f}s)")
            for cb in self.callbacks:
                cb.on_epoch_end(self, epoch, logs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--bs", type=int, default=128)
    args = ap.parse_args()
    (xtr, ytr), (xte, yte) = keras.datasets.cifar10.load_data()
    aug = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)])
    train_ds = (tf.data.Dataset.from_tensor_slices((xtr / 255.0, ytr)).shuffle(50_000)
                .batch(args.bs).map(lambda x, y: (aug(x, training=True), y)).prefetch(4))
    val_ds = tf.data.Dataset.from_tensor_slices((xte / 255.0, yte)).batch(512)
    loop = Loop(make_cnn(), callbacks=[BestWeights("best.weights.h5")])
    loop.fit(train_ds, val_ds, args.epochs)


if __name__ == "__main__":
    main()

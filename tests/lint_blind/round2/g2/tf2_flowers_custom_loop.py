"""tf.keras custom training loop for the 5-class flowers dataset (TF 2.x)."""
import argparse

import tensorflow as tf
from tensorflow.keras import layers


def make_net(num_classes=5, width=32):
    inputs = tf.keras.Input(shape=(180, 180, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    for mult in (1, 2, 4, 8):
        x = layers.Conv2D(width * mult, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(num_classes)(x)
    return tf.keras.Model(inputs, outputs, name="flowers_cnn")


def augmenter():
    return tf.keras.Sequential([
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
    ])


class Runner:
    def __init__(self, net, lr):
        self.net = net
        self.aug = augmenter()
        self.opt = tf.keras.optimizers.Adam(lr)
        self.loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.train_acc = tf.keras.metrics.SparseCategoricalAccuracy()
        self.val_acc = tf.keras.metrics.SparseCategoricalAccuracy()
        self.train_loss = tf.keras.metrics.Mean()

    @tf.function
    def train_step(self, images, labels):
        images = self.aug(images, training=True)
        with tf.GradientTape() as tape:
            logits = self.net(images)  # expect: MG502
            loss = self.loss_fn(labels, logits)
        grads = tape.gradient(loss, self.net.trainable_variables)
        self.opt.apply_gradients(zip(grads, self.net.trainable_variables))
        self.train_loss.update_state(loss)
        self.train_acc.update_state(labels, logits)

    @tf.function
    def val_step(self, images, labels):
        logits = self.net(images, training=False)
        self.val_acc.update_state(labels, logits)

    def fit(self, train_ds, val_ds, epochs):
        for epoch in range(epochs):
            for m in (self.train_acc, self.val_acc, self.train_loss):
                m.reset_state()
            for images, labels in train_ds:
                self.train_step(images, labels)
            for images, labels in val_ds:
                self.val_step(images, labels)
            tf.print("epoch", epoch, "loss", self.train_loss.result(),
                     "acc", self.train_acc.result(), "val_acc", self.val_acc.result())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="flower_photos")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    common = dict(validation_split=0.2, seed=123, image_size=(180, 180), batch_size=32)
    train_ds = tf.keras.utils.image_dataset_from_directory(args.data, subset="training", **common)
    val_ds = tf.keras.utils.image_dataset_from_directory(args.data, subset="validation", **common)
    train_ds = train_ds.shuffle(1000).prefetch(tf.data.AUTOTUNE)
    val_ds = val_ds.cache().prefetch(tf.data.AUTOTUNE)
    runner = Runner(make_net(), args.lr)
    runner.fit(train_ds, val_ds, args.epochs)
    runner.net.save("flowers_cnn.keras")


if __name__ == "__main__":
    main()

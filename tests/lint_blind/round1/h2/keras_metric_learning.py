"""Product image embeddings with a subclassed Keras model and a custom loop.

python keras_metric_learning.py --train gs://bucket/train-*.tfrec --epochs 20
"""
import argparse

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

from retail_data import make_dataset


class ConvBlock(layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.bn = layers.BatchNormalization()
        self.pool = layers.MaxPool2D()

    def call(self, x, training=None):
        return self.pool(tf.nn.relu(self.bn(self.conv(x), training=training)))


class Embedder(keras.Model):
    def __init__(self, dim=128, n_classes=1000, drop=0.3):
        super().__init__()
        self.blocks = [ConvBlock(f) for f in (32, 64, 128, 256)]
        self.gap = layers.GlobalAveragePooling2D()
        self.drop = layers.Dropout(drop)
        self.proj = layers.Dense(dim)
        self.cls = layers.Dense(n_classes)

    def embed(self, x, training=None):
        for blk in self.blocks:
            x = blk(x, training=training)
        x = self.drop(self.gap(x), training=training)
        return tf.math.l2_normalize(self.proj(x), axis=-1)

    def call(self, x, training=None):
        z = self.embed(x, training=training)
        return z, self.cls(z * 16.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--gallery", required=True)
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()

    train_ds = make_dataset(args.train, batch=64, training=True)
    val_ds = make_dataset(args.val, batch=128, training=False)
    gallery_ds = make_dataset(args.gallery, batch=256, training=False, with_labels=False)

    net = Embedder()
    opt = keras.optimizers.Adam(3e-4)
    xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_loss = keras.metrics.Mean()
    val_acc = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            _, logits = net(images)  # expect: MG502
            loss = xent(labels, logits) + sum(net.losses)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        train_loss.update_state(loss)

    @tf.function
    def val_step(images, labels):
        _, logits = net(images, training=False)
        val_acc.update_state(labels, logits)

    for epoch in range(args.epochs):
        train_loss.reset_state()
        val_acc.reset_state()
        for images, labels in train_ds:
            train_step(images, labels)
        for images, labels in val_ds:
            val_step(images, labels)
        print(f"epoch {epoch}: loss {train_loss.result():.4f} val acc {val_acc.result():.4f}")

    # index the gallery for nearest-neighbour search
    vectors = []
    for images in gallery_ds:
        vectors.append(net.embed(images, training=True).numpy())  # expect: MG502
    np.save("gallery_embeddings.npy", np.concatenate(vectors))
    net.save_weights("embedder.weights.h5")


if __name__ == "__main__":
    main()

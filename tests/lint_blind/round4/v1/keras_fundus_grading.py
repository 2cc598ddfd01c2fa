"""Diabetic retinopathy grading (5 classes) with a small Keras CNN and a custom training loop."""
import argparse

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

from fundus_pipeline import make_dataset


def build_cnn(input_shape=(384, 384, 3), n_classes=5, width=32):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for i, mult in enumerate([1, 2, 4, 8, 8]):
        x = layers.Conv2D(width * mult, 3, padding="same", use_bias=False, name=f"c{i}a")(x)
        x = layers.BatchNormalization(name=f"bn{i}a")(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2D(width * mult, 3, padding="same", use_bias=False, name=f"c{i}b")(x)
        x = layers.BatchNormalization(name=f"bn{i}b")(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(n_classes)(x)
    return keras.Model(inputs, outputs, name="dr_cnn")


def quadratic_kappa(y_true, y_pred, n=5):
    o = np.zeros((n, n))
    for t, p in zip(y_true, y_pred):
        o[t, p] += 1
    w = np.array([[(i - j) ** 2 for j in range(n)] for i in range(n)]) / (n - 1) ** 2
    e = np.outer(o.sum(1), o.sum(0)) / o.sum()
    return 1.0 - (w * o).sum() / (w * e).sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-csv", default="data/train.csv")
    ap.add_argument("--val-csv", default="data/val.csv")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    train_ds = make_dataset(args.train_csv, args.bs, training=True)
    val_ds = make_dataset(args.val_csv, args.bs, training=False)

    net = build_cnn()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    sched = keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=args.epochs * 1000)
    opt = keras.optimizers.Adam(sched)
    train_loss = keras.metrics.Mean()

    @tf.function
    def train_step(images, grades):
        with tf.GradientTape() as tape:
            logits = net(images)  # expect: MG502
            loss = loss_fn(grades, logits)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        train_loss.update_state(loss)

    @tf.function
    def predict_step(images):
        return tf.argmax(net(images, training=False), axis=-1)

    best_kappa = -1.0
    for epoch in range(args.epochs):
        train_loss.reset_state()
        for images, grades in train_ds:
            train_step(images, grades)
        y_true, y_pred = [], []
        for images, grades in val_ds:
            y_pred.append(predict_step(images).numpy())
            y_true.append(grades.numpy())
        kappa = quadratic_kappa(np.concatenate(y_true), np.concatenate(y_pred))
        print(f"epoch {epoch + 1}: loss={train_loss.result():.4f} val_kappa={kappa:.4f}")
        if kappa > best_kappa:
            best_kappa = kappa
            net.save_weights("dr_cnn_best.weights.h5")


if __name__ == "__main__":
    main()

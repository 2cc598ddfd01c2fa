"""Sound event tagging (ESC-50 / UrbanSound8K) with a small CRNN on log-mel patches, TF2 custom loop."""
import argparse
import os

import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

from audio_features import make_logmel_dataset


def conv_block(x, filters, pool):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.MaxPool2D(pool)(x)
    return layers.SpatialDropout2D(0.1)(x)


def build_crnn(n_mels=64, n_frames=431, n_classes=50):
    inp = tf.keras.Input((n_mels, n_frames, 1))
    x = conv_block(inp, 64, (2, 2))
    x = conv_block(x, 128, (2, 2))
    x = conv_block(x, 256, (4, 1))
    x = conv_block(x, 256, (2, 1))
    x = layers.Permute((2, 1, 3))(x)
    x = layers.Reshape((-1, x.shape[2] * x.shape[3]))(x)
    x = layers.Bidirectional(layers.GRU(128, return_sequences=True))(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(0.5)(x)
    out = layers.Dense(n_classes)(x)
    return tf.keras.Model(inp, out, name="crnn")


def spec_augment(mel, max_f=8, max_t=40):
    f = tf.random.uniform([], 0, max_f, dtype=tf.int32)
    f0 = tf.random.uniform([], 0, tf.shape(mel)[0] - f, dtype=tf.int32)
    t = tf.random.uniform([], 0, max_t, dtype=tf.int32)
    t0 = tf.random.uniform([], 0, tf.shape(mel)[1] - t, dtype=tf.int32)
    fmask = tf.concat([tf.ones([f0, 1, 1]), tf.zeros([f, 1, 1]), tf.ones([tf.shape(mel)[0] - f0 - f, 1, 1])], 0)
    tmask = tf.concat([tf.ones([1, t0, 1]), tf.zeros([1, t, 1]), tf.ones([1, tf.shape(mel)[1] - t0 - t, 1])], 1)
    return mel * fmask * tmask


def main(args):
    train_ds = make_logmel_dataset(args.data, folds=[f for f in range(1, 6) if f != args.fold], shuffle=True)
    train_ds = train_ds.map(lambda m, y: (spec_augment(m), y)).batch(args.batch_size).prefetch(2)
    val_ds = make_logmel_dataset(args.data, folds=[args.fold], shuffle=False).batch(64)

    model = build_crnn(n_classes=args.n_classes)
    opt = tf.keras.optimizers.Adam(args.lr)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc = tf.keras.metrics.SparseCategoricalAccuracy()
    val_acc = tf.keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x)  # expect: MG502
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        train_acc.update_state(y, logits)
        return loss

    @tf.function
    def val_step(x, y):
        val_acc.update_state(y, model(x, training=False))

    best = 0.0
    for epoch in range(args.epochs):
        train_acc.reset_state()
        val_acc.reset_state()
        losses = [float(train_step(x, y)) for x, y in train_ds]
        for x, y in val_ds:
            val_step(x, y)
        acc = float(val_acc.result())
        print(f"epoch {epoch:3d} loss {np.mean(losses):.4f} train acc {float(train_acc.result()):.3f} "
              f"val acc {acc:.3f}")
        if acc > best:
            best = acc
            model.save_weights(os.path.join(args.out, f"crnn_fold{args.fold}.weights.h5"))
    print(f"fold {args.fold}: best val acc {best:.4f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--fold", type=int, default=1)
    p.add_argument("--n_classes", type=int, default=50)
    p.add_argument("--epochs", type=int, default=120)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--out", default="weights")
    main(p.parse_args())

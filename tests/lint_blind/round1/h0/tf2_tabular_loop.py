"""Custom TF2 training loop for the churn model (needs per-step sample weights)."""
import argparse

import numpy as np
import pandas as pd
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def make_model(n_features, width=256, drop=0.3):
    inputs = keras.Input(shape=(n_features,))
    x = layers.Dense(width, use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(drop)(x)
    x = layers.Dense(width // 2, activation="relu")(x)
    x = layers.Dropout(drop)(x)
    outputs = layers.Dense(1)(x)
    return keras.Model(inputs, outputs, name="churn_mlp")


def load_split(path, target="churned"):
    df = pd.read_parquet(path)
    y = df.pop(target).astype("float32").values
    w = np.where(y > 0, 3.0, 1.0).astype("float32")
    return df.values.astype("float32"), y, w


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", required=True)
    ap.add_argument("--valid", required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=512)
    args = ap.parse_args()

    x_tr, y_tr, w_tr = load_split(args.train)
    x_va, y_va, _ = load_split(args.valid)
    norm = layers.Normalization()
    norm.adapt(x_tr)
    x_tr, x_va = norm(x_tr).numpy(), norm(x_va).numpy()

    model = make_model(x_tr.shape[1])
    optimizer = keras.optimizers.Adam(1e-3)
    bce = keras.losses.BinaryCrossentropy(from_logits=True, reduction="none")
    auc = keras.metrics.AUC(from_logits=True)

    train_ds = (tf.data.Dataset.from_tensor_slices((x_tr, y_tr, w_tr))
                .shuffle(100_000).batch(args.batch).prefetch(tf.data.AUTOTUNE))
    valid_ds = tf.data.Dataset.from_tensor_slices((x_va, y_va)).batch(4096)

    @tf.function
    def train_step(x, y, w):
        with tf.GradientTape() as tape:
            logits = model(x)  # expect: MG502
            per_ex = bce(y[:, None], logits)
            loss = tf.reduce_sum(per_ex * w) / tf.reduce_sum(w)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def valid_step(x, y):
        logits = model(x, training=True)  # expect: MG502
        auc.update_state(y[:, None], logits)

    for epoch in range(args.epochs):
        losses = [float(train_step(x, y, w)) for x, y, w in train_ds]
        auc.reset_state()
        for x, y in valid_ds:
            valid_step(x, y)
        print(f"epoch {epoch:02d} loss {np.mean(losses):.4f} val_auc {auc.result().numpy():.4f}")

    model.save("churn_mlp.keras")


if __name__ == "__main__":
    main()

"""Multi-station 2 m temperature forecasting (+6h ... +48h) with a stacked GRU, TF2 custom loop."""
import argparse
import datetime as dt

import numpy as np
import pandas as pd
import tensorflow as tf
from tensorflow.keras import layers

LEADS = [6, 12, 18, 24, 30, 36, 42, 48]


def make_windows(frame, lookback=72, target="t2m"):
    vals = frame.values.astype("float32")
    t_idx = frame.columns.get_loc(target)
    xs, ys = [], []
    for i in range(lookback, len(vals) - max(LEADS)):
        xs.append(vals[i - lookback:i])
        ys.append([vals[i + l - 1, t_idx] for l in LEADS])
    return np.stack(xs), np.array(ys, dtype="float32")


def build_model(n_feat, lookback=72):
    inp = layers.Input((lookback, n_feat))
    h = layers.GRU(128, return_sequences=True)(inp)
    h = layers.LayerNormalization()(h)
    h = layers.GRU(128)(h)
    h = layers.Dense(128)(h)
    h = layers.BatchNormalization()(h)
    h = layers.Activation("gelu")(h)
    h = layers.Dropout(0.3)(h)
    out = layers.Dense(len(LEADS))(h)
    return tf.keras.Model(inp, out, name="station_gru")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", default="station_hourly.csv")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--bs", type=int, default=256)
    args = ap.parse_args()

    df = pd.read_csv(args.csv, parse_dates=["time"], index_col="time").interpolate(limit=3).dropna()
    split = df.index < pd.Timestamp("2021-01-01")
    mu, sd = df[split].mean(), df[split].std()
    df = (df - mu) / sd
    x_tr, y_tr = make_windows(df[split])
    x_va, y_va = make_windows(df[~split])

    train_ds = tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).shuffle(20000).batch(args.bs).prefetch(2)
    val_ds = tf.data.Dataset.from_tensor_slices((x_va, y_va)).batch(1024)

    model = build_model(x_tr.shape[-1])
    sched = tf.keras.optimizers.schedules.CosineDecay(1e-3, args.epochs * len(train_ds))
    opt = tf.keras.optimizers.Adam(sched)
    huber = tf.keras.losses.Huber(delta=1.0)
    tr_loss = tf.keras.metrics.Mean()
    va_mae = tf.keras.metrics.MeanAbsoluteError()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x)  # expect: MG502
            loss = huber(y, pred) + sum(model.losses)
        grads = tape.gradient(loss, model.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 1.0)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        tr_loss.update_state(loss)

    @tf.function
    def val_step(x, y):
        va_mae.update_state(y, model(x, training=False))

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    best = np.inf
    for epoch in range(args.epochs):
        tr_loss.reset_state()
        va_mae.reset_state()
        for x, y in train_ds:
            train_step(x, y)
        for x, y in val_ds:
            val_step(x, y)
        mae_k = float(va_mae.result()) * sd["t2m"]
        print(f"epoch {epoch:02d} loss {float(tr_loss.result()):.4f} val MAE {mae_k:.3f} K")
        if mae_k < best:
            best = mae_k
            model.save_weights(f"ckpt/gru_{stamp}.weights.h5")


if __name__ == "__main__":
    main()

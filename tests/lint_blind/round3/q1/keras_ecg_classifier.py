"""12-lead ECG rhythm classification (PTB-XL) with a pretrained 1D-ResNet encoder.

Stage 1 trains a new head on a frozen encoder, stage 2 unfreezes the encoder at a
small learning rate.  Following the Keras transfer-learning guide, the encoder is
called with training=False inside the functional graph so its BatchNorm layers
keep using the pre-training moving statistics in both stages.
"""
import argparse

import numpy as np
import tensorflow as tf
from tensorflow.keras import layers

from ptbxl import load_ptbxl_split, macro_auc


def res_block(x, filters, stride):
    shortcut = x
    x = layers.Conv1D(filters, 7, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.99, epsilon=1e-3)(x)
    x = layers.ReLU()(x)
    x = layers.Conv1D(filters, 7, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.99, epsilon=1e-3)(x)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv1D(filters, 1, strides=stride, use_bias=False)(shortcut)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(x + shortcut)


def build_encoder(length=1000, leads=12):
    inp = tf.keras.Input((length, leads))
    x = layers.Conv1D(64, 15, strides=2, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for filters, stride in [(64, 1), (128, 2), (192, 2), (256, 2)]:
        x = res_block(x, filters, stride)
    x = layers.GlobalAveragePooling1D()(x)
    return tf.keras.Model(inp, x, name="ecg_encoder")


def build_classifier(encoder, n_classes):
    inp = tf.keras.Input(encoder.input_shape[1:])
    feats = encoder(inp, training=False)
    x = layers.Dropout(0.3)(feats)
    out = layers.Dense(n_classes)(x)
    return tf.keras.Model(inp, out)


def run_stage(model, train_ds, val_ds, lr, epochs, y_val):
    opt = tf.keras.optimizers.Adam(lr)
    bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = bce(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def predict(x):
        return tf.sigmoid(model(x, training=False))

    for epoch in range(epochs):
        losses = [float(step(x, y)) for x, y in train_ds]
        probs = np.concatenate([predict(x).numpy() for x, _ in val_ds])
        print(f"  epoch {epoch}: loss {np.mean(losses):.4f} val macro-AUC {macro_auc(y_val, probs):.4f}")


def main(args):
    (x_tr, y_tr), (x_val, y_val) = load_ptbxl_split(args.data, task=args.task)
    train_ds = tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).shuffle(4096).batch(args.bs).prefetch(2)
    val_ds = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(256)

    encoder = build_encoder()
    encoder.load_weights(args.pretrained)
    model = build_classifier(encoder, y_tr.shape[1])

    print("stage 1: frozen encoder")
    encoder.trainable = False
    run_stage(model, train_ds, val_ds, 1e-3, args.head_epochs, y_val)

    print("stage 2: fine-tune all")
    encoder.trainable = True
    run_stage(model, train_ds, val_ds, 1e-5, args.ft_epochs, y_val)
    model.save(args.out)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--pretrained", required=True)
    p.add_argument("--task", default="rhythm")
    p.add_argument("--bs", type=int, default=128)
    p.add_argument("--head_epochs", type=int, default=5)
    p.add_argument("--ft_epochs", type=int, default=20)
    p.add_argument("--out", default="ecg_classifier.keras")
    main(p.parse_args())

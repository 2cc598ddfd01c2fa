"""Intent classification (SNIPS) with a BiLSTM in TF2 using a hand-written training step."""
import argparse

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def make_bilstm(vocab_size, n_intents, emb_dim=200, units=128, drop=0.4):
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    x = layers.Embedding(vocab_size, emb_dim, mask_zero=True)(tokens)
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(drop)(x)
    x = layers.Dense(units, activation="relu")(x)
    x = layers.Dropout(drop)(x)
    logits = layers.Dense(n_intents, name="intent_logits")(x)
    return keras.Model(tokens, logits, name="bilstm_intent")


def make_steps(net, optimizer, loss_obj, train_acc, val_acc):
    @tf.function
    def train_step(tokens, intents):
        with tf.GradientTape() as tape:
            logits = net(tokens)  # expect: MG502
            loss = loss_obj(intents, logits)
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        train_acc.update_state(intents, logits)
        return loss

    @tf.function
    def val_step(tokens, intents):
        logits = net(tokens, training=False)
        val_acc.update_state(intents, logits)

    return train_step, val_step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="data/snips/train.tfrecord")
    ap.add_argument("--valid", default="data/snips/valid.tfrecord")
    ap.add_argument("--vocab-size", type=int, default=12000)
    ap.add_argument("--intents", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()

    from snips_io import read_tfrecord
    train_ds = read_tfrecord(args.train).shuffle(10000).padded_batch(64)
    valid_ds = read_tfrecord(args.valid).padded_batch(256)

    net = make_bilstm(args.vocab_size, args.intents)
    optimizer = keras.optimizers.Adam(1e-3)
    loss_obj = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc = keras.metrics.SparseCategoricalAccuracy()
    val_acc = keras.metrics.SparseCategoricalAccuracy()
    train_step, val_step = make_steps(net, optimizer, loss_obj, train_acc, val_acc)

    best = 0.0
    for epoch in range(args.epochs):
        train_acc.reset_state()
        val_acc.reset_state()
        for tokens, intents in train_ds:
            loss = train_step(tokens, intents)
        for tokens, intents in valid_ds:
            val_step(tokens, intents)
        acc = float(val_acc.result())
        print(f"epoch {epoch}: loss {float(loss):.4f} train_acc {float(train_acc.result()):.4f} val_acc {acc:.4f}")
        if acc > best:
            best = acc
            net.save_weights("ckpt/bilstm_intent.weights.h5")


if __name__ == "__main__":
    main()

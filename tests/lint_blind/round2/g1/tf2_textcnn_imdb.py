"""Kim-style TextCNN for IMDB sentiment with a hand-written tf.GradientTape loop."""
import argparse

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def make_textcnn(vocab_size, maxlen, emb_dim=128, filters=100, kernel_sizes=(3, 4, 5), drop=0.5):
    tokens = keras.Input(shape=(maxlen,), dtype="int32")
    x = layers.Embedding(vocab_size, emb_dim)(tokens)
    pooled = []
    for k in kernel_sizes:
        h = layers.Conv1D(filters, k, activation="relu")(x)
        pooled.append(layers.GlobalMaxPooling1D()(h))
    h = layers.Concatenate()(pooled)
    h = layers.Dropout(drop)(h)
    out = layers.Dense(1)(h)
    return keras.Model(tokens, out, name="textcnn")


def load_imdb(vocab_size, maxlen, batch):
    (xtr, ytr), (xte, yte) = keras.datasets.imdb.load_data(num_words=vocab_size)
    xtr = keras.utils.pad_sequences(xtr, maxlen=maxlen)
    xte = keras.utils.pad_sequences(xte, maxlen=maxlen)
    tr = tf.data.Dataset.from_tensor_slices((xtr, ytr)).shuffle(25000).batch(batch).prefetch(2)
    te = tf.data.Dataset.from_tensor_slices((xte, yte)).batch(512)
    return tr, te


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=20000)
    ap.add_argument("--maxlen", type=int, default=400)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=64)
    args = ap.parse_args()

    train_ds, test_ds = load_imdb(args.vocab, args.maxlen, args.batch)
    net = make_textcnn(args.vocab, args.maxlen)
    opt = keras.optimizers.Adam(1e-3)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    train_loss = keras.metrics.Mean()
    train_acc = keras.metrics.BinaryAccuracy(threshold=0.0)
    test_acc = keras.metrics.BinaryAccuracy(threshold=0.0)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = net(x)  # expect: MG502
            loss = bce(y, logits)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        train_loss.update_state(loss)
        train_acc.update_state(y, logits)

    @tf.function
    def test_step(x, y):
        test_acc.update_state(y, net(x, training=False))

    for epoch in range(args.epochs):
        for m in (train_loss, train_acc, test_acc):
            m.reset_state()
        for xb, yb in train_ds:
            train_step(xb, yb)
        for xb, yb in test_ds:
            test_step(xb, yb)
        print(f"epoch {epoch + 1}: loss {train_loss.result():.4f} "
              f"train acc {train_acc.result():.4f} test acc {test_acc.result():.4f}")
    net.save("textcnn_imdb.keras")


if __name__ == "__main__":
    main()

"""BiLSTM sentiment classifier (SST-2) with a custom TF2 training loop."""
import tensorflow as tf
from tensorflow.keras import Model, layers

import sst_tfds


class SentimentNet(Model):
    def __init__(self, vocab_size, emb=300, units=150, drop=0.4):
        super().__init__()
        self.emb = layers.Embedding(vocab_size, emb, mask_zero=True)
        self.emb_drop = layers.SpatialDropout1D(drop)
        self.rnn = layers.Bidirectional(layers.LSTM(units, dropout=0.2))
        self.norm = layers.BatchNormalization()
        self.drop = layers.Dropout(drop)
        self.out = layers.Dense(2)

    def call(self, tokens, training=False):
        x = self.emb_drop(self.emb(tokens), training=training)
        x = self.rnn(x, training=training)
        x = self.norm(x, training=training)
        return self.out(self.drop(x, training=training))


def run(epochs=6, batch_size=64):
    vocab, train_ds, dev_ds = sst_tfds.load("glue/sst2", max_len=60, batch_size=batch_size)
    net = SentimentNet(len(vocab))
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt = tf.keras.optimizers.Adam(learning_rate=tf.keras.optimizers.schedules.CosineDecay(1e-3, epochs * 1000))
    train_acc = tf.keras.metrics.SparseCategoricalAccuracy()
    dev_acc = tf.keras.metrics.SparseCategoricalAccuracy()
    ckpt = tf.train.Checkpoint(model=net, optimizer=opt)
    manager = tf.train.CheckpointManager(ckpt, "ckpt/sst_bilstm", max_to_keep=2)

    @tf.function
    def fit_batch(x, y):
        with tf.GradientTape() as tape:
            logits = net(x, training=True)
            loss = loss_fn(y, logits) + tf.add_n(net.losses) if net.losses else loss_fn(y, logits)
        grads = tape.gradient(loss, net.trainable_variables)
        grads, _ = tf.clip_by_global_norm(grads, 5.0)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        train_acc.update_state(y, logits)
        return loss

    @tf.function
    def score_batch(x, y):
        dev_acc.update_state(y, net(x, training=False))

    best = 0.0
    for ep in range(epochs):
        train_acc.reset_state()
        dev_acc.reset_state()
        for step, (x, y) in enumerate(train_ds):
            loss = fit_batch(x, y)
            if step % 200 == 0:
                tf.print("epoch", ep, "step", step, "loss", loss)
        for x, y in dev_ds:
            score_batch(x, y)
        acc = float(dev_acc.result())
        print(f"epoch {ep}: train acc {float(train_acc.result()):.4f} dev acc {acc:.4f}")
        if acc > best:
            best = acc
            manager.save()


if __name__ == "__main__":
    run()

"""Keyword spotting on Speech Commands v2 with a small TF1 conv net (log-mel input)."""
import argparse
import os

import numpy as np
import tensorflow as tf

from kws_input import SpeechCommands

WANTED = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]


def conv_bn_relu(x, filters, kernel, is_training, name, strides=1):
    with tf.variable_scope(name):
        h = tf.layers.conv2d(x, filters, kernel, strides=strides, padding="same", use_bias=False)
        h = tf.layers.batch_normalization(h, training=is_training)  # expect: MG501
        return tf.nn.relu(h)


def build_graph(n_classes, n_frames=98, n_mels=40):
    g = tf.Graph()
    with g.as_default():
        feats = tf.placeholder(tf.float32, [None, n_frames, n_mels], name="feats")
        labels = tf.placeholder(tf.int64, [None], name="labels")
        is_training = tf.placeholder_with_default(False, shape=(), name="is_training")
        lr = tf.placeholder(tf.float32, shape=(), name="lr")

        x = tf.expand_dims(feats, -1)
        x = conv_bn_relu(x, 64, (10, 4), is_training, "conv1", strides=(2, 1))
        x = conv_bn_relu(x, 64, (3, 3), is_training, "conv2")
        x = conv_bn_relu(x, 64, (3, 3), is_training, "conv3")
        x = conv_bn_relu(x, 64, (3, 3), is_training, "conv4")
        x = tf.reduce_mean(x, axis=[1, 2])
        logits = tf.layers.dense(x, n_classes, name="logits")

        loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
        step = tf.train.get_or_create_global_step()
        train_op = tf.train.MomentumOptimizer(lr, 0.9, use_nesterov=True).minimize(loss, global_step=step)
        acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
        saver = tf.train.Saver(max_to_keep=3)
    return g, dict(feats=feats, labels=labels, is_training=is_training, lr=lr,
                   loss=loss, train_op=train_op, acc=acc, step=step, saver=saver)


def evaluate(sess, t, batches):
    accs = [sess.run(t["acc"], {t["feats"]: x, t["labels"]: y}) for x, y in batches]
    return float(np.mean(accs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/data/speech_commands_v0.02")
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--bs", type=int, default=100)
    ap.add_argument("--logdir", default="runs/kws")
    args = ap.parse_args()

    data = SpeechCommands(args.data, wanted=WANTED, add_silence=True, add_unknown=True)
    g, t = build_graph(n_classes=data.num_classes)
    with tf.Session(graph=g) as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(args.steps):
            lr = 0.01 if i < 20000 else 0.001
            x, y = data.next_train_batch(args.bs)
            _, loss = sess.run([t["train_op"], t["loss"]],
                               {t["feats"]: x, t["labels"]: y, t["is_training"]: True, t["lr"]: lr})
            if i % 1000 == 0:
                print(f"step {i} loss {loss:.3f} val acc {evaluate(sess, t, data.val_batches(500)):.4f}")
                t["saver"].save(sess, os.path.join(args.logdir, "model.ckpt"), global_step=t["step"])
        print("test acc", evaluate(sess, t, data.test_batches(500)))


if __name__ == "__main__":
    main()

"""Frame-level phone classifier (TIMIT, 11-frame context of fMLLR features) in TF1.

Standard hybrid-ASR DNN: 6 x 1024 ReLU layers with batch norm and dropout.
"""
import argparse

import numpy as np
import tensorflow as tf

from timit_frames import FrameIterator


def dnn(x, is_training, hidden=1024, depth=6, keep_prob=0.85):
    h = x
    for i in range(depth):
        h = tf.layers.dense(h, hidden, use_bias=False, name="fc%d" % i)
        h = tf.layers.batch_normalization(h, training=is_training, name="bn%d" % i)
        h = tf.nn.relu(h)
        h = tf.layers.dropout(h, rate=1.0 - keep_prob, training=is_training)
    return h


def build(n_in, n_out, lr):
    feats = tf.placeholder(tf.float32, [None, n_in], "feats")
    targets = tf.placeholder(tf.int32, [None], "targets")
    is_training = tf.placeholder(tf.bool, [], "is_training")

    logits = tf.layers.dense(dnn(feats, is_training), n_out, name="softmax")
    xent = tf.losses.sparse_softmax_cross_entropy(targets, logits)
    frame_acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1, output_type=tf.int32), targets), tf.float32))

    step = tf.train.get_or_create_global_step()
    bn_updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(bn_updates):
        train_op = tf.train.AdamOptimizer(lr).minimize(xent, global_step=step)
    return {"feats": feats, "targets": targets, "is_training": is_training,
            "loss": xent, "acc": frame_acc, "train_op": train_op}


def run_eval(sess, g, it):
    accs, losses = [], []
    for x, y in it:
        l, a = sess.run([g["loss"], g["acc"]], {g["feats"]: x, g["targets"]: y, g["is_training"]: False})
        losses.append(l)
        accs.append(a)
    return float(np.mean(losses)), float(np.mean(accs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/data/timit_fmllr")
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    train_it = FrameIterator(args.data, "train", context=5, batch_size=256, shuffle=True)
    dev_it = FrameIterator(args.data, "dev", context=5, batch_size=2048)
    graph = build(train_it.input_dim, train_it.n_pdfs, args.lr)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver = tf.train.Saver()
        best = 0.0
        for epoch in range(args.epochs):
            for x, y in train_it:
                sess.run(graph["train_op"], {graph["feats"]: x, graph["targets"]: y, graph["is_training"]: True})
            dev_loss, dev_acc = run_eval(sess, graph, dev_it)
            print("epoch %d dev loss %.3f frame acc %.4f" % (epoch, dev_loss, dev_acc))
            if dev_acc > best:
                best = dev_acc
                saver.save(sess, "ckpt/dnn/model")


if __name__ == "__main__":
    main()

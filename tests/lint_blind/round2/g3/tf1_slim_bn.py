"""Sequence classifier for network-traffic flows (TF 1.x, tf.contrib).

Builds two towers that share variables: a training tower (is_training=True)
and an evaluation tower (is_training=False).  Batch-norm moving averages are
updated in place (updates_collections=None), so no UPDATE_OPS bookkeeping.
"""
import argparse
import os

import numpy as np
import tensorflow as tf

layers = tf.contrib.layers


def flow_net(x, is_training, n_classes, keep_prob=0.7, scope="flownet", reuse=None):
    bn_params = dict(decay=0.997, epsilon=1e-5, scale=True, is_training=is_training, updates_collections=None)
    with tf.variable_scope(scope, reuse=reuse):
        h = x
        for i, (filters, k) in enumerate([(64, 5), (128, 5), (128, 3)]):
            h = tf.layers.conv1d(h, filters, k, padding="same", use_bias=False, name="conv%d" % i)
            h = layers.batch_norm(h, scope="bn%d" % i, **bn_params)
            h = tf.nn.relu(h)
            h = tf.layers.max_pooling1d(h, 2, 2)
        h = tf.reduce_max(h, axis=1)
        h = layers.fully_connected(h, 128, activation_fn=None, scope="fc")
        h = layers.batch_norm(h, activation_fn=tf.nn.relu, scope="bn_fc", **bn_params)
        h = layers.dropout(h, keep_prob=keep_prob, is_training=is_training)
        return layers.fully_connected(h, n_classes, activation_fn=None, scope="out")


def batches(x, y, bs, rng):
    idx = rng.permutation(len(x))
    for s in range(0, len(x) - bs + 1, bs):
        b = idx[s:s + bs]
        yield x[b], y[b]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npz", default="data/flows.npz")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--ckpt_dir", default="ckpt/flownet")
    args = ap.parse_args()

    d = np.load(args.npz)
    x_tr, y_tr, x_va, y_va = d["x_train"], d["y_train"], d["x_val"], d["y_val"]
    n_classes = int(y_tr.max()) + 1
    seq_len, n_feat = x_tr.shape[1:]

    x_ph = tf.placeholder(tf.float32, [None, seq_len, n_feat])
    y_ph = tf.placeholder(tf.int64, [None])

    train_logits = flow_net(x_ph, True, n_classes)
    eval_logits = flow_net(x_ph, False, n_classes, reuse=True)

    loss = tf.losses.sparse_softmax_cross_entropy(y_ph, train_logits)
    step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=step)
    eval_pred = tf.argmax(eval_logits, 1)

    saver = tf.train.Saver()
    os.makedirs(args.ckpt_dir, exist_ok=True)
    rng = np.random.RandomState(0)
    config = tf.ConfigProto()
    config.gpu_options.allow_growth = True
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        best = 0.0
        for epoch in range(args.epochs):
            losses = [sess.run([train_op, loss], {x_ph: xb, y_ph: yb})[1]
                      for xb, yb in batches(x_tr, y_tr, args.bs, rng)]
            preds = np.concatenate([sess.run(eval_pred, {x_ph: x_va[i:i + 2048]})
                                    for i in range(0, len(x_va), 2048)])
            acc = float((preds == y_va).mean())
            print("epoch %2d  loss %.4f  val acc %.4f" % (epoch, np.mean(losses), acc))
            if acc > best:
                best = acc
                saver.save(sess, os.path.join(args.ckpt_dir, "model"), global_step=step)


if __name__ == "__main__":
    main()

"""Skin lesion classifier, TensorFlow 1.15 graph mode, with an exported frozen graph."""
import argparse
import os

import numpy as np
import tensorflow as tf

from lesion_data import LesionReader


def conv_bn(x, filters, stride, training, name):
    with tf.variable_scope(name):
        x = tf.layers.conv2d(x, filters, 3, stride, padding="same", use_bias=False)
        x = tf.layers.batch_normalization(x, momentum=0.99, training=training)
        return tf.nn.relu6(x)


def lesion_net(x, training, n_classes=7):
    widths = [32, 64, 64, 128, 128, 256, 256]
    strides = [2, 2, 1, 2, 1, 2, 1]
    for i, (w, s) in enumerate(zip(widths, strides)):
        x = conv_bn(x, w, s, training, "block%d" % i)
    x = tf.reduce_mean(x, axis=[1, 2], name="gap")
    x = tf.layers.dropout(x, rate=0.4, training=training)
    return tf.layers.dense(x, n_classes, name="logits")


def build_graph(lr, n_classes):
    images = tf.placeholder(tf.float32, [None, 224, 224, 3], name="input")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    training = tf.placeholder_with_default(False, shape=(), name="training")
    logits = lesion_net(images, training, n_classes)
    probs = tf.nn.softmax(logits, name="probs")
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    step = tf.train.get_or_create_global_step()
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = tf.train.AdamOptimizer(lr).minimize(loss, global_step=step)
    correct = tf.equal(tf.argmax(logits, 1), labels)
    acc = tf.reduce_mean(tf.cast(correct, tf.float32))
    return dict(images=images, labels=labels, training=training, loss=loss, acc=acc,
                probs=probs, train_op=train_op, step=step)


def evaluate(sess, g, reader, bs=64):
    accs, ns = [], []
    for xb, yb in reader.batches("val", bs, shuffle=False):
        accs.append(sess.run(g["acc"], {g["images"]: xb, g["labels"]: yb}))
        ns.append(len(xb))
    return float(np.average(accs, weights=ns))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/ham10000")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", default="export/lesion")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    reader = LesionReader(args.data)
    g = build_graph(args.lr, reader.num_classes)
    saver = tf.train.Saver()
    best = 0.0
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(args.epochs):
            for xb, yb in reader.batches("train", args.bs, shuffle=True, augment=True):
                sess.run(g["train_op"], {g["images"]: xb, g["labels"]: yb, g["training"]: True})
            val_acc = evaluate(sess, g, reader)
            print("epoch %d val acc %.4f" % (epoch, val_acc))
            if val_acc > best:
                best = val_acc
                saver.save(sess, os.path.join(args.out, "model.ckpt"))

        saver.restore(sess, os.path.join(args.out, "model.ckpt"))
        frozen = tf.graph_util.convert_variables_to_constants(
            sess, sess.graph.as_graph_def(), ["probs"])
        tf.train.write_graph(frozen, args.out, "lesion_frozen.pb", as_text=False)


if __name__ == "__main__":
    main()

"""Small conv net with batch normalization on MNIST (TensorFlow 1.x graph mode)."""
import argparse
import os

import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data


def conv_block(x, filters, is_training, name):
    with tf.variable_scope(name):
        x = tf.layers.conv2d(x, filters, 3, padding="same", use_bias=False,
                             kernel_initializer=tf.variance_scaling_initializer())
        x = tf.layers.batch_normalization(x, training=is_training, momentum=0.99)  # expect: MG501
        x = tf.nn.relu(x)
        return tf.layers.max_pooling2d(x, 2, 2)


def build_graph(lr):
    images = tf.placeholder(tf.float32, [None, 784], name="images")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    is_training = tf.placeholder_with_default(False, [], name="is_training")

    x = tf.reshape(images, [-1, 28, 28, 1])
    x = conv_block(x, 32, is_training, "block1")
    x = conv_block(x, 64, is_training, "block2")
    x = tf.layers.flatten(x)
    x = tf.layers.dense(x, 256, activation=tf.nn.relu)
    x = tf.layers.dropout(x, rate=0.4, training=is_training)
    logits = tf.layers.dense(x, 10)

    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))
    global_step = tf.train.get_or_create_global_step()
    learning_rate = tf.train.exponential_decay(lr, global_step, 2000, 0.5, staircase=True)
    optimizer = tf.train.AdamOptimizer(learning_rate)
    train_op = optimizer.minimize(loss, global_step=global_step)

    tf.summary.scalar("loss", loss)
    tf.summary.scalar("accuracy", accuracy)
    return {
        "images": images, "labels": labels, "is_training": is_training,
        "loss": loss, "accuracy": accuracy, "train_op": train_op,
        "global_step": global_step, "summary": tf.summary.merge_all(),
    }


def evaluate(sess, g, data, bs=1000):
    accs = []
    for start in range(0, data.num_examples, bs):
        xb = data.images[start:start + bs]
        yb = data.labels[start:start + bs]
        accs.append(sess.run(g["accuracy"], {g["images"]: xb, g["labels"]: yb}) * len(xb))
    return float(np.sum(accs) / data.num_examples)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/mnist")
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--bs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--logdir", default="logs/mnist_bn")
    args = ap.parse_args()

    mnist = input_data.read_data_sets(args.data, one_hot=False)
    g = build_graph(args.lr)
    saver = tf.train.Saver(max_to_keep=3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.summary.FileWriter(args.logdir, sess.graph)
        for _ in range(args.steps):
            xb, yb = mnist.train.next_batch(args.bs)
            _, step, summ = sess.run([g["train_op"], g["global_step"], g["summary"]],
                                     {g["images"]: xb, g["labels"]: yb, g["is_training"]: True})
            writer.add_summary(summ, step)
            if step % 1000 == 0:
                val_acc = evaluate(sess, g, mnist.validation)
                print(f"step {step}: validation accuracy {val_acc:.4f}")
                saver.save(sess, os.path.join(args.logdir, "model.ckpt"), global_step=step)
        print(f"test accuracy {evaluate(sess, g, mnist.test):.4f}")


if __name__ == "__main__":
    main()

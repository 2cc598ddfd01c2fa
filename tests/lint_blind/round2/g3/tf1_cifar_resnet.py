"""ResNet-20 on CIFAR-10, TF 1.x graph mode.

    python tf1_cifar_resnet.py --data_dir ./cifar-10-batches-py --steps 64000
"""
import argparse
import os
import pickle

import numpy as np
import tensorflow as tf


def load_cifar(data_dir):
    xs, ys = [], []
    for i in range(1, 6):
        with open(os.path.join(data_dir, "data_batch_%d" % i), "rb") as f:
            d = pickle.load(f, encoding="latin1")
        xs.append(d["data"])
        ys.extend(d["labels"])
    x = np.concatenate(xs).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32) / 255.0
    with open(os.path.join(data_dir, "test_batch"), "rb") as f:
        t = pickle.load(f, encoding="latin1")
    xt = t["data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32) / 255.0
    return x, np.array(ys), xt, np.array(t["labels"])


def conv_bn(x, filters, stride, is_training, name, relu=True):
    with tf.variable_scope(name):
        x = tf.layers.conv2d(x, filters, 3, strides=stride, padding="same", use_bias=False,
                             kernel_initializer=tf.variance_scaling_initializer())
        x = tf.layers.batch_normalization(x, momentum=0.9, epsilon=1e-5, training=is_training)  # expect: MG501
        return tf.nn.relu(x) if relu else x


def residual(x, filters, stride, is_training, name):
    with tf.variable_scope(name):
        shortcut = x
        if stride != 1 or x.get_shape().as_list()[-1] != filters:
            shortcut = tf.layers.conv2d(x, filters, 1, strides=stride, use_bias=False, name="proj")
        y = conv_bn(x, filters, stride, is_training, "a")
        y = conv_bn(y, filters, 1, is_training, "b", relu=False)
        return tf.nn.relu(y + shortcut)


def resnet20(images, is_training, num_classes=10):
    x = conv_bn(images, 16, 1, is_training, "stem")
    for stage, filters in enumerate([16, 32, 64]):
        for i in range(3):
            stride = 2 if (i == 0 and stage > 0) else 1
            x = residual(x, filters, stride, is_training, "stage%d_block%d" % (stage, i))
    x = tf.reduce_mean(x, axis=[1, 2])
    return tf.layers.dense(x, num_classes, name="logits")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data_dir", required=True)
    ap.add_argument("--steps", type=int, default=64000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--logdir", default="/tmp/resnet20")
    args = ap.parse_args()

    x_train, y_train, x_test, y_test = load_cifar(args.data_dir)
    mean = x_train.mean(axis=(0, 1, 2))

    images = tf.placeholder(tf.float32, [None, 32, 32, 3], name="images")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    is_training = tf.placeholder_with_default(False, [], name="is_training")

    logits = resnet20(images - mean, is_training)
    xent = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    l2 = 1e-4 * tf.add_n([tf.nn.l2_loss(v) for v in tf.trainable_variables() if "kernel" in v.name])
    loss = xent + l2
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))

    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.piecewise_constant(global_step, [32000, 48000], [0.1, 0.01, 0.001])
    optimizer = tf.train.MomentumOptimizer(lr, 0.9)
    train_op = optimizer.minimize(loss, global_step=global_step)

    tf.summary.scalar("loss", loss)
    tf.summary.scalar("accuracy", accuracy)
    merged = tf.summary.merge_all()
    saver = tf.train.Saver(max_to_keep=3)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.summary.FileWriter(args.logdir, sess.graph)
        n = len(x_train)
        for step in range(args.steps):
            idx = np.random.randint(0, n, args.batch)
            xb = x_train[idx]
            flip = np.random.rand(args.batch) < 0.5
            xb[flip] = xb[flip, :, ::-1]
            _, summ = sess.run([train_op, merged],
                               feed_dict={images: xb, labels: y_train[idx], is_training: True})
            if step % 100 == 0:
                writer.add_summary(summ, step)
            if step % 2000 == 0 or step == args.steps - 1:
                accs = [sess.run(accuracy, {images: x_test[i:i + 500], labels: y_test[i:i + 500]})
                        for i in range(0, len(x_test), 500)]
                print("step %d test acc %.4f" % (step, float(np.mean(accs))))
                saver.save(sess, os.path.join(args.logdir, "model.ckpt"), global_step=step)


if __name__ == "__main__":
    main()

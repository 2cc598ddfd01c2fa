"""ResNet-20 on CIFAR-10 in TF 1.x graph mode (kept for the reproducibility study)."""
import argparse

import numpy as np
import tensorflow as tf

from cifar_input import load_cifar10, random_crop_flip


def bn_relu(x, is_training, name, relu=True):
    x = tf.layers.batch_normalization(x, momentum=0.9, epsilon=1e-5, training=is_training, name=name)  # expect: MG501
    return tf.nn.relu(x) if relu else x


def residual_unit(x, filters, stride, is_training, scope):
    with tf.variable_scope(scope):
        shortcut = x
        h = tf.layers.conv2d(x, filters, 3, stride, padding="same", use_bias=False, name="conv1")
        h = bn_relu(h, is_training, "bn1")
        h = tf.layers.conv2d(h, filters, 3, 1, padding="same", use_bias=False, name="conv2")
        h = bn_relu(h, is_training, "bn2", relu=False)
        if stride != 1 or shortcut.shape[-1] != filters:
            shortcut = tf.layers.conv2d(shortcut, filters, 1, stride, use_bias=False, name="proj")
            shortcut = bn_relu(shortcut, is_training, "bn_proj", relu=False)
        return tf.nn.relu(h + shortcut)


def resnet20(images, is_training, n_classes=10):
    x = tf.layers.conv2d(images, 16, 3, padding="same", use_bias=False, name="conv0")
    x = bn_relu(x, is_training, "bn0")
    for stage, filters in enumerate([16, 32, 64]):
        for unit in range(3):
            stride = 2 if (unit == 0 and stage > 0) else 1
            x = residual_unit(x, filters, stride, is_training, f"stage{stage}_unit{unit}")
    x = tf.reduce_mean(x, axis=[1, 2])
    x = tf.layers.dropout(x, rate=0.3)  # expect: MG502
    return tf.layers.dense(x, n_classes, name="logits")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data_dir", default="./cifar-10-batches-py")
    ap.add_argument("--steps", type=int, default=64000)
    ap.add_argument("--batch_size", type=int, default=128)
    args = ap.parse_args()

    (x_train, y_train), (x_test, y_test) = load_cifar10(args.data_dir)

    images = tf.placeholder(tf.float32, [None, 32, 32, 3])
    labels = tf.placeholder(tf.int64, [None])
    is_training = tf.placeholder(tf.bool, [])

    logits = resnet20(images, is_training)
    xent = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    l2 = 1e-4 * tf.add_n([tf.nn.l2_loss(v) for v in tf.trainable_variables() if "kernel" in v.name])
    loss = xent + l2
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))

    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.piecewise_constant(global_step, [32000, 48000], [0.1, 0.01, 0.001])
    train_op = tf.train.MomentumOptimizer(lr, 0.9).minimize(loss, global_step=global_step)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(args.steps):
            idx = np.random.randint(0, len(x_train), args.batch_size)
            xb = random_crop_flip(x_train[idx])
            _, l, acc = sess.run([train_op, loss, accuracy],
                                 feed_dict={images: xb, labels: y_train[idx], is_training: True})
            if step % 1000 == 0:
                test_acc = np.mean([
                    sess.run(accuracy, feed_dict={images: x_test[i:i + 500], labels: y_test[i:i + 500],
                                                  is_training: False})
                    for i in range(0, len(x_test), 500)
                ])
                print(f"step {step}: loss {l:.3f} train acc {acc:.3f} test acc {test_acc:.3f}")


if __name__ == "__main__":
    main()

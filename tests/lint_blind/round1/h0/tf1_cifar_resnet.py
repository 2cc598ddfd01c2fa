"""ResNet-20 on CIFAR-10, TF1 graph mode (kept for the reproduction of old baselines)."""
import argparse
import time

import numpy as np
import tensorflow as tf

from cifar_input import load_cifar10, augment_batch


def conv_bn_relu(x, filters, is_training, stride=1, relu=True, scope="cbr"):
    with tf.variable_scope(scope):
        x = tf.layers.conv2d(x, filters, 3, strides=stride, padding="same", use_bias=False,
                             kernel_initializer=tf.variance_scaling_initializer())
        x = tf.layers.batch_normalization(x, training=is_training, momentum=0.9, epsilon=1e-5)  # expect: MG501
        return tf.nn.relu(x) if relu else x


def residual(x, filters, is_training, stride, scope):
    with tf.variable_scope(scope):
        shortcut = x
        y = conv_bn_relu(x, filters, is_training, stride, scope="a")
        y = conv_bn_relu(y, filters, is_training, 1, relu=False, scope="b")
        if stride != 1 or x.shape[-1] != filters:
            shortcut = tf.layers.conv2d(x, filters, 1, strides=stride, use_bias=False)
        return tf.nn.relu(y + shortcut)


def resnet20(images, is_training, num_classes=10):
    x = conv_bn_relu(images, 16, is_training, scope="stem")
    for stage, filters in enumerate([16, 32, 64]):
        for block in range(3):
            stride = 2 if (block == 0 and stage > 0) else 1
            x = residual(x, filters, is_training, stride, scope=f"s{stage}b{block}")
    x = tf.reduce_mean(x, axis=[1, 2])
    return tf.layers.dense(x, num_classes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=64000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--logdir", default="/tmp/resnet20")
    args = ap.parse_args()

    (x_train, y_train), (x_test, y_test) = load_cifar10()
    mean = x_train.mean(axis=(0, 1, 2))
    std = x_train.std(axis=(0, 1, 2))

    images = tf.placeholder(tf.float32, [None, 32, 32, 3], name="images")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    is_training = tf.placeholder_with_default(False, [], name="is_training")

    logits = resnet20((images - mean) / std, is_training)
    xent = tf.losses.sparse_softmax_cross_entropy(labels, logits)
    l2 = 1e-4 * tf.add_n([tf.nn.l2_loss(v) for v in tf.trainable_variables() if "kernel" in v.name])
    loss = xent + l2
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))

    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.piecewise_constant(global_step, [32000, 48000], [0.1, 0.01, 0.001])
    train_op = tf.train.MomentumOptimizer(lr, 0.9).minimize(loss, global_step=global_step)

    saver = tf.train.Saver(max_to_keep=3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        t0 = time.time()
        for step in range(1, args.steps + 1):
            idx = np.random.randint(0, len(x_train), args.batch)
            feed = {images: augment_batch(x_train[idx]), labels: y_train[idx], is_training: True}
            _, l = sess.run([train_op, loss], feed_dict=feed)
            if step % 1000 == 0:
                accs = []
                for i in range(0, len(x_test), 1000):
                    accs.append(sess.run(accuracy, {images: x_test[i:i + 1000],
                                                    labels: y_test[i:i + 1000]}))
                print(f"step {step} loss {l:.3f} test acc {np.mean(accs):.4f} "
                      f"({time.time() - t0:.0f}s)")
                saver.save(sess, args.logdir + "/model.ckpt", global_step=step)


if __name__ == "__main__":
    main()

# Wide-ResNet-16-4 on CIFAR-10, TensorFlow 1.x graph mode.
import time

import numpy as np
import tensorflow as tf

flags = tf.app.flags
flags.DEFINE_string("data_dir", "/data/cifar10", "directory with the numpy batches")
flags.DEFINE_integer("batch_size", 128, "")
flags.DEFINE_integer("epochs", 100, "")
flags.DEFINE_float("lr", 0.1, "")
flags.DEFINE_float("keep_drop", 0.3, "dropout rate inside wide blocks")
FLAGS = flags.FLAGS


def bn_relu(x, is_training, scope):
    x = tf.contrib.layers.batch_norm(x, decay=0.9, epsilon=1e-5, scale=True,  # expect: MG501
                                     is_training=is_training, scope=scope)
    return tf.nn.relu(x)


def wide_block(x, filters, stride, is_training, scope):
    with tf.variable_scope(scope):
        h = bn_relu(x, is_training, "bn_a")
        shortcut = x
        if stride != 1 or x.get_shape()[-1] != filters:
            shortcut = tf.layers.conv2d(h, filters, 1, stride, padding="same", use_bias=False)
        h = tf.layers.conv2d(h, filters, 3, stride, padding="same", use_bias=False)
        h = bn_relu(h, is_training, "bn_b")
        h = tf.layers.dropout(h, rate=FLAGS.keep_drop)  # expect: MG502
        h = tf.layers.conv2d(h, filters, 3, 1, padding="same", use_bias=False)
        return h + shortcut


def wrn(images, is_training, depth=16, k=4, n_classes=10):
    n = (depth - 4) // 6
    x = tf.layers.conv2d(images, 16, 3, padding="same", use_bias=False)
    for gi, (width, stride) in enumerate([(16 * k, 1), (32 * k, 2), (64 * k, 2)]):
        for bi in range(n):
            x = wide_block(x, width, stride if bi == 0 else 1, is_training, "g%d_b%d" % (gi, bi))
    x = bn_relu(x, is_training, "final_bn")
    x = tf.reduce_mean(x, axis=[1, 2])
    return tf.layers.dense(x, n_classes)


def load_cifar(data_dir):
    tr = np.load(data_dir + "/train.npz")
    te = np.load(data_dir + "/test.npz")
    mean = tr["x"].mean(axis=(0, 1, 2))
    std = tr["x"].std(axis=(0, 1, 2))
    return ((tr["x"] - mean) / std, tr["y"]), ((te["x"] - mean) / std, te["y"])


def main(_):
    (x_tr, y_tr), (x_te, y_te) = load_cifar(FLAGS.data_dir)
    x = tf.placeholder(tf.float32, [None, 32, 32, 3])
    y = tf.placeholder(tf.int64, [None])
    training = tf.placeholder(tf.bool, [])

    logits = wrn(x, training)
    xent = tf.losses.sparse_softmax_cross_entropy(y, logits)
    l2 = 5e-4 * tf.add_n([tf.nn.l2_loss(v) for v in tf.trainable_variables() if "kernel" in v.name])
    loss = xent + l2
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))

    step = tf.train.get_or_create_global_step()
    steps_per_epoch = len(x_tr) // FLAGS.batch_size
    bounds = [steps_per_epoch * e for e in (30, 60, 80)]
    lr = tf.train.piecewise_constant(step, bounds, [FLAGS.lr, FLAGS.lr * 0.2, FLAGS.lr * 0.04,
                                                    FLAGS.lr * 0.008])
    opt = tf.train.MomentumOptimizer(lr, 0.9, use_nesterov=True)
    train_op = opt.minimize(loss, global_step=step)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(FLAGS.epochs):
            t0 = time.time()
            perm = np.random.permutation(len(x_tr))
            for i in range(steps_per_epoch):
                idx = perm[i * FLAGS.batch_size:(i + 1) * FLAGS.batch_size]
                xb = x_tr[idx]
                flip = np.random.rand(len(xb)) < 0.5
                xb[flip] = xb[flip, :, ::-1]
                sess.run(train_op, {x: xb, y: y_tr[idx], training: True})
            accs = [sess.run(acc, {x: x_te[j:j + 500], y: y_te[j:j + 500], training: False})
                    for j in range(0, len(x_te), 500)]
            print("epoch %3d  test acc %.4f  (%.0fs)" % (epoch, np.mean(accs), time.time() - t0))


if __name__ == "__main__":
    tf.app.run()

"""Retinal vessel segmentation (DRIVE) with a small U-Net, TF1 graph mode.

python tf1_unet_retina_vessels.py --data drive_patches.npz --steps 30000
"""
import argparse
import os

import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()


def conv_bn_relu(x, filters, is_training, name):
    with tf.variable_scope(name):
        x = tf.layers.conv2d(x, filters, 3, padding="same", use_bias=False,
                             kernel_initializer=tf.glorot_uniform_initializer())
        x = tf.layers.batch_normalization(x, training=is_training)  # expect: MG501
        return tf.nn.relu(x)


def unet(x, is_training, base=32, depth=4):
    skips = []
    h = x
    for d in range(depth):
        h = conv_bn_relu(h, base * 2 ** d, is_training, "down%d_a" % d)
        h = conv_bn_relu(h, base * 2 ** d, is_training, "down%d_b" % d)
        skips.append(h)
        h = tf.layers.max_pooling2d(h, 2, 2)
    h = conv_bn_relu(h, base * 2 ** depth, is_training, "bottom")
    h = tf.layers.dropout(h, rate=0.3, training=is_training)
    for d in reversed(range(depth)):
        h = tf.layers.conv2d_transpose(h, base * 2 ** d, 2, strides=2, padding="same")
        h = tf.concat([h, skips[d]], axis=-1)
        h = conv_bn_relu(h, base * 2 ** d, is_training, "up%d_a" % d)
        h = conv_bn_relu(h, base * 2 ** d, is_training, "up%d_b" % d)
    return tf.layers.conv2d(h, 1, 1, name="logits")


def dice_coef(prob, y, eps=1.0):
    inter = tf.reduce_sum(prob * y)
    return (2.0 * inter + eps) / (tf.reduce_sum(prob) + tf.reduce_sum(y) + eps)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--logdir", default="logs/unet_drive")
    args = ap.parse_args()

    d = np.load(args.data)
    x_tr, y_tr = d["x_train"][..., None], d["y_train"][..., None]
    x_va, y_va = d["x_val"][..., None], d["y_val"][..., None]

    images = tf.placeholder(tf.float32, [None, 64, 64, 1], name="images")
    labels = tf.placeholder(tf.float32, [None, 64, 64, 1], name="labels")
    is_training = tf.placeholder_with_default(False, [], name="is_training")

    logits = unet(images, is_training)
    prob = tf.sigmoid(logits)
    xent = tf.reduce_mean(tf.nn.weighted_cross_entropy_with_logits(labels=labels, logits=logits, pos_weight=3.0))
    loss = xent + (1.0 - dice_coef(prob, labels))
    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(1e-3, global_step, 5000, 0.5, staircase=True)
    train_op = tf.train.AdamOptimizer(lr).minimize(loss, global_step=global_step)

    tf.summary.scalar("loss", loss)
    merged = tf.summary.merge_all()
    saver = tf.train.Saver(max_to_keep=3)
    rng = np.random.RandomState(1234)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.summary.FileWriter(args.logdir, sess.graph)
        for step in range(args.steps):
            idx = rng.randint(0, len(x_tr), args.bs)
            _, l, s = sess.run([train_op, loss, merged],
                               {images: x_tr[idx], labels: y_tr[idx], is_training: True})
            writer.add_summary(s, step)
            if step % 1000 == 0:
                dices = []
                for i in range(0, len(x_va), 64):
                    p = sess.run(prob, {images: x_va[i:i + 64]})
                    g = y_va[i:i + 64]
                    dices.append(2 * np.sum((p > 0.5) * g) / (np.sum(p > 0.5) + np.sum(g) + 1e-6))
                print("step %d loss %.4f val dice %.4f" % (step, l, np.mean(dices)))
                saver.save(sess, os.path.join(args.logdir, "model.ckpt"), global_step=step)


if __name__ == "__main__":
    main()

"""TF1 U-Net for nuclei segmentation (DSB2018 style data)."""
import argparse
import os

import numpy as np
import tensorflow as tf

from nuclei_io import load_split, batch_iterator


def conv_block(x, filters, is_training, name):
    with tf.variable_scope(name):
        for i in range(2):
            x = tf.layers.conv2d(x, filters, 3, padding="same", use_bias=False,
                                 kernel_initializer=tf.variance_scaling_initializer(),
                                 name="conv%d" % i)
            x = tf.layers.batch_normalization(x, training=is_training, name="bn%d" % i)  # expect: MG501
            x = tf.nn.relu(x)
    return x


def unet(images, is_training, base=32, depth=4):
    skips, x = [], images
    for d in range(depth):
        x = conv_block(x, base * 2 ** d, is_training, "down%d" % d)
        skips.append(x)
        x = tf.layers.max_pooling2d(x, 2, 2)
    x = conv_block(x, base * 2 ** depth, is_training, "bottom")
    for d in reversed(range(depth)):
        x = tf.layers.conv2d_transpose(x, base * 2 ** d, 2, strides=2, name="up%d" % d)
        x = tf.concat([x, skips[d]], axis=-1)
        x = conv_block(x, base * 2 ** d, is_training, "dec%d" % d)
    return tf.layers.conv2d(x, 1, 1, name="logits")


def soft_dice(logits, masks, eps=1.0):
    probs = tf.nn.sigmoid(logits)
    inter = tf.reduce_sum(probs * masks, axis=[1, 2, 3])
    denom = tf.reduce_sum(probs, axis=[1, 2, 3]) + tf.reduce_sum(masks, axis=[1, 2, 3])
    return tf.reduce_mean((2.0 * inter + eps) / (denom + eps))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/stage1_train")
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--bs", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--logdir", default="logs/unet_tf")
    args = ap.parse_args()

    (x_tr, y_tr), (x_va, y_va) = load_split(args.data, val_fraction=0.1, size=256)

    images = tf.placeholder(tf.float32, [None, 256, 256, 3], name="images")
    masks = tf.placeholder(tf.float32, [None, 256, 256, 1], name="masks")
    is_training = tf.placeholder_with_default(False, [], name="is_training")

    logits = unet(images, is_training)
    bce = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=masks, logits=logits))
    dice = soft_dice(logits, masks)
    loss = bce + (1.0 - dice)

    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.cosine_decay(args.lr, global_step, args.steps)
    train_op = tf.train.AdamOptimizer(lr).minimize(loss, global_step=global_step)

    tf.summary.scalar("loss", loss)
    tf.summary.scalar("dice", dice)
    merged = tf.summary.merge_all()
    saver = tf.train.Saver(max_to_keep=3)
    best_dice = 0.0

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.summary.FileWriter(args.logdir, sess.graph)
        batches = batch_iterator(x_tr, y_tr, args.bs, augment=True)
        for step in range(args.steps):
            xb, yb = next(batches)
            _, summ, l = sess.run([train_op, merged, loss],
                                  feed_dict={images: xb, masks: yb, is_training: True})
            if step % 100 == 0:
                writer.add_summary(summ, step)
            if step % 1000 == 0 and step > 0:
                scores = [sess.run(dice, feed_dict={images: x_va[i:i + 8], masks: y_va[i:i + 8]})
                          for i in range(0, len(x_va), 8)]
                val_dice = float(np.mean(scores))
                print("step %d loss %.4f val dice %.4f" % (step, l, val_dice))
                if val_dice > best_dice:
                    best_dice = val_dice
                    saver.save(sess, os.path.join(args.logdir, "best.ckpt"), global_step=step)


if __name__ == "__main__":
    main()

# Road segmentation, TF1 graph API (tf.compat.v1). Batch norm + dropout, both driven by a
# boolean placeholder; moving averages updated through the UPDATE_OPS collection.
import os

import numpy as np
import tensorflow.compat.v1 as tf

from roads.io import tile_reader

tf.disable_v2_behavior()
FLAGS = tf.app.flags.FLAGS
tf.app.flags.DEFINE_string("data_dir", "data/roads", "tfrecord directory")
tf.app.flags.DEFINE_string("train_dir", "logs/roads", "checkpoints")
tf.app.flags.DEFINE_integer("max_steps", 40000, "")
tf.app.flags.DEFINE_float("keep_prob", 0.8, "")


def encoder_block(x, filters, training, name):
    with tf.variable_scope(name):
        for i in range(2):
            x = tf.layers.conv2d(x, filters, 3, padding="same", use_bias=False, name=f"conv{i}")
            x = tf.layers.batch_normalization(x, training=training, name=f"bn{i}")
            x = tf.nn.relu(x)
        return x, tf.layers.max_pooling2d(x, 2, 2)


def build(images, training):
    skips, x = [], images
    for i, f in enumerate((32, 64, 128, 256)):
        s, x = encoder_block(x, f, training, f"enc{i}")
        skips.append(s)
    x = tf.layers.dropout(x, rate=1.0 - FLAGS.keep_prob, training=training)
    for i, s in enumerate(reversed(skips)):
        x = tf.layers.conv2d_transpose(x, s.shape[-1], 2, strides=2, padding="same")
        x, _ = encoder_block(tf.concat([x, s], axis=-1), int(s.shape[-1]), training, f"dec{i}")
    return tf.layers.conv2d(x, 1, 1, name="logits")


def main(_):
    tr_img, tr_mask = tile_reader(os.path.join(FLAGS.data_dir, "train-*"), batch=16, shuffle=True)
    va_img, va_mask = tile_reader(os.path.join(FLAGS.data_dir, "val-*"), batch=16, shuffle=False)

    training = tf.placeholder(tf.bool, shape=[], name="training")
    images = tf.cond(training, lambda: tr_img, lambda: va_img)
    masks = tf.cond(training, lambda: tr_mask, lambda: va_mask)

    logits = build(images, training)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=masks, logits=logits))
    pred = tf.cast(logits > 0, tf.float32)
    inter = tf.reduce_sum(pred * masks)
    iou = inter / (tf.reduce_sum(pred) + tf.reduce_sum(masks) - inter + 1e-6)

    step = tf.train.get_or_create_global_step()
    opt = tf.train.AdamOptimizer(1e-4)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = opt.minimize(loss, global_step=step)

    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        for i in range(FLAGS.max_steps):
            _, l = sess.run([train_op, loss], {training: True})
            if i % 500 == 0:
                ious = [sess.run(iou, {training: False}) for _ in range(50)]
                print(f"step {i} loss {l:.4f} val IoU {np.mean(ious):.4f}")
                saver.save(sess, os.path.join(FLAGS.train_dir, "model.ckpt"), global_step=step)


if __name__ == "__main__":
    tf.app.run()

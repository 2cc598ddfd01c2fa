"""2D liver/lesion segmentation on CT slices (LiTS), TensorFlow 1.x graph mode."""
import argparse
import os

import numpy as np
import tensorflow as tf

from lits_io import SliceSampler, load_validation_volumes, dice_score


def conv_bn_relu(x, filters, is_training, name, dilation=1):
    with tf.variable_scope(name):
        x = tf.layers.conv2d(x, filters, 3, padding="same", dilation_rate=dilation, use_bias=False,
                             kernel_initializer=tf.variance_scaling_initializer())
        x = tf.layers.batch_normalization(x, training=is_training, momentum=0.99)  # expect: MG501
        return tf.nn.relu(x)


def segnet(images, is_training, n_classes=3, base=32, drop_rate=0.3):
    skips = []
    x = images
    for i, mult in enumerate([1, 2, 4, 8]):
        x = conv_bn_relu(x, base * mult, is_training, f"enc{i}_a")
        x = conv_bn_relu(x, base * mult, is_training, f"enc{i}_b")
        skips.append(x)
        x = tf.layers.max_pooling2d(x, 2, 2)
    x = conv_bn_relu(x, base * 16, is_training, "bottleneck_a", dilation=2)
    x = tf.layers.dropout(x, rate=drop_rate, training=is_training)
    x = conv_bn_relu(x, base * 16, is_training, "bottleneck_b", dilation=2)
    for i, mult in reversed(list(enumerate([1, 2, 4, 8]))):
        x = tf.layers.conv2d_transpose(x, base * mult, 2, strides=2, padding="same")
        x = tf.concat([x, skips[i]], axis=-1)
        x = conv_bn_relu(x, base * mult, is_training, f"dec{i}_a")
        x = conv_bn_relu(x, base * mult, is_training, f"dec{i}_b")
    return tf.layers.conv2d(x, n_classes, 1, name="logits")


def weighted_ce(logits, labels, weights=(1.0, 2.0, 8.0)):
    w = tf.gather(tf.constant(weights), labels)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_sum(w * ce) / tf.reduce_sum(w)


def main(args):
    images = tf.placeholder(tf.float32, [None, 256, 256, 3], name="images")  # 2.5D: 3 adjacent slices
    labels = tf.placeholder(tf.int32, [None, 256, 256], name="labels")
    is_training = tf.placeholder_with_default(False, [], name="is_training")

    logits = segnet(images, is_training)
    probs = tf.nn.softmax(logits)
    loss = weighted_ce(logits, labels) + 1e-5 * tf.add_n(
        [tf.nn.l2_loss(v) for v in tf.trainable_variables() if "kernel" in v.name])

    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.cosine_decay(args.lr, global_step, args.steps)
    train_op = tf.train.AdamOptimizer(lr).minimize(loss, global_step=global_step)
    tf.summary.scalar("loss", loss)
    summaries = tf.summary.merge_all()
    saver = tf.train.Saver(max_to_keep=3)

    sampler = SliceSampler(args.data, batch_size=args.batch_size, fg_fraction=0.5)
    val_volumes = load_validation_volumes(args.data, n=10)

    config = tf.ConfigProto()
    config.gpu_options.allow_growth = True
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.summary.FileWriter(args.logdir, sess.graph)
        for step in range(1, args.steps + 1):
            x, y = sampler.next_batch()
            _, l, s = sess.run([train_op, loss, summaries],
                               feed_dict={images: x, labels: y, is_training: True})
            if step % 100 == 0:
                writer.add_summary(s, step)
                print(f"step {step}: loss {l:.4f}")
            if step % args.val_every == 0:
                dices = []
                for vol, seg in val_volumes:
                    pred = np.concatenate([sess.run(probs, {images: vol[i:i + 16]})
                                           for i in range(0, len(vol), 16)]).argmax(-1)
                    dices.append(dice_score(pred == 2, seg == 2))
                print(f"step {step}: lesion dice {np.mean(dices):.4f}")
                saver.save(sess, os.path.join(args.logdir, "model.ckpt"), global_step=step)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--logdir", default="logs/segnet")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--steps", type=int, default=60000)
    p.add_argument("--batch_size", type=int, default=16)
    p.add_argument("--val_every", type=int, default=2000)
    main(p.parse_args())

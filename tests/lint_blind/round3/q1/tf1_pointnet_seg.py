"""PointNet semantic segmentation on S3DIS blocks (TensorFlow 1.x).

Two BN flavours are used on purpose: the shared-MLP layers use tf.layers
batch_normalization (moving averages updated through UPDATE_OPS), the
classification head uses slim-style batch_norm with updates_collections=None,
which applies the moving-average update in place.
"""
import argparse
import os

import numpy as np
import tensorflow as tf

from s3dis_blocks import load_area, iou_per_class

BN_INIT_DECAY, BN_DECAY_RATE, BN_DECAY_STEP, BN_DECAY_CLIP = 0.5, 0.5, 300000, 0.99


def bn_decay(global_step, batch_size):
    momentum = tf.train.exponential_decay(BN_INIT_DECAY, global_step * batch_size, BN_DECAY_STEP,
                                          BN_DECAY_RATE, staircase=True)
    return tf.minimum(BN_DECAY_CLIP, 1 - momentum)


def shared_mlp(x, channels, is_training, decay, scope):
    with tf.variable_scope(scope):
        x = tf.layers.conv2d(x, channels, [1, 1], padding="valid", use_bias=False)
        x = tf.layers.batch_normalization(x, momentum=decay, training=is_training)
        return tf.nn.relu(x)


def head_fc(x, units, is_training, scope, decay=0.9):
    with tf.variable_scope(scope):
        x = tf.layers.dense(x, units, use_bias=False)
        x = tf.contrib.layers.batch_norm(x, decay=decay, is_training=is_training, updates_collections=None,
                                         scale=True, center=True)
        return tf.nn.relu(x)


def pointnet_seg(points, is_training, decay, n_classes=13):
    n_pts = points.get_shape()[1].value
    x = tf.expand_dims(points, 2)  # B, N, 1, 9
    for i, c in enumerate([64, 64, 64, 128, 1024]):
        x = shared_mlp(x, c, is_training, decay, f"mlp{i}")
    g = tf.reduce_max(x, axis=1, keepdims=True)
    g = tf.reshape(g, [-1, 1024])
    g = head_fc(g, 256, is_training, "fc1")
    g = head_fc(g, 128, is_training, "fc2")
    g = tf.tile(tf.reshape(g, [-1, 1, 1, 128]), [1, n_pts, 1, 1])
    x = tf.concat([x, g], axis=-1)
    x = shared_mlp(x, 512, is_training, decay, "seg1")
    x = shared_mlp(x, 256, is_training, decay, "seg2")
    x = tf.layers.dropout(x, rate=0.3, training=is_training)
    return tf.squeeze(tf.layers.conv2d(x, n_classes, [1, 1]), [2])


def main(args):
    points = tf.placeholder(tf.float32, [args.bs, args.num_point, 9])
    labels = tf.placeholder(tf.int32, [args.bs, args.num_point])
    is_training = tf.placeholder(tf.bool, [])
    global_step = tf.Variable(0, trainable=False)
    logits = pointnet_seg(points, is_training, bn_decay(global_step, args.bs))
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    lr = tf.maximum(tf.train.exponential_decay(1e-3, global_step * args.bs, 300000, 0.5, staircase=True), 1e-5)

    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = tf.train.AdamOptimizer(lr).minimize(loss, global_step=global_step)
    pred = tf.argmax(logits, -1, output_type=tf.int32)

    train_x, train_y = load_area(args.data, exclude=args.test_area)
    test_x, test_y = load_area(args.data, only=args.test_area)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(args.epochs):
            perm = np.random.permutation(len(train_x))
            losses = []
            for i in range(len(perm) // args.bs):
                idx = perm[i * args.bs:(i + 1) * args.bs]
                _, l = sess.run([train_op, loss], {points: train_x[idx], labels: train_y[idx], is_training: True})
                losses.append(l)
            preds = [sess.run(pred, {points: test_x[i:i + args.bs], is_training: False})
                     for i in range(0, len(test_x) - args.bs + 1, args.bs)]
            n = len(preds) * args.bs
            ious = iou_per_class(np.concatenate(preds), test_y[:n], 13)
            print(f"epoch {epoch}: loss {np.mean(losses):.4f} mIoU {np.mean(ious):.4f}")
            saver.save(sess, os.path.join(args.log_dir, "model.ckpt"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--log_dir", default="log_seg")
    p.add_argument("--test_area", type=int, default=5)
    p.add_argument("--num_point", type=int, default=4096)
    p.add_argument("--bs", type=int, default=24)
    p.add_argument("--epochs", type=int, default=50)
    main(p.parse_args())

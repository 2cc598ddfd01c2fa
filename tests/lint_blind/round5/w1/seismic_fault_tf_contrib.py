# -*- coding: utf-8 -*-
# Seismic fault detection on 2D inline sections (TF 1.14, tf.contrib layers).
# Labels: binary fault masks from interpreted horizons.
import os
import sys
import numpy as np
import tensorflow as tf

from seisio import load_sections, random_crops

FLAGS = tf.app.flags.FLAGS
tf.app.flags.DEFINE_string('data_dir', '/data/seismic/f3', 'npz sections')
tf.app.flags.DEFINE_string('train_dir', 'train_fault', 'checkpoints')
tf.app.flags.DEFINE_integer('max_steps', 40000, '')
tf.app.flags.DEFINE_integer('batch_size', 24, '')
tf.app.flags.DEFINE_float('lr', 0.01, '')

layers = tf.contrib.layers


def block(net, n, is_training, scope):
    with tf.variable_scope(scope):
        net = layers.conv2d(net, n, [3, 3], activation_fn=None, biases_initializer=None)
        net = layers.batch_norm(net, decay=0.99, is_training=is_training, scale=True)  # expect: MG501
        net = tf.nn.relu(net)
    return net


def fault_net(x, is_training):
    c1 = block(x, 32, is_training, 'c1')
    c2 = block(layers.max_pool2d(c1, 2), 64, is_training, 'c2')
    c3 = block(layers.max_pool2d(c2, 2), 128, is_training, 'c3')
    c3 = layers.dropout(c3, keep_prob=0.5, is_training=is_training)
    u2 = layers.conv2d_transpose(c3, 64, [2, 2], stride=2)
    u2 = block(tf.concat([u2, c2], 3), 64, is_training, 'u2')
    u1 = layers.conv2d_transpose(u2, 32, [2, 2], stride=2)
    u1 = block(tf.concat([u1, c1], 3), 32, is_training, 'u1')
    return layers.conv2d(u1, 1, [1, 1], activation_fn=None, scope='logits')


def balanced_bce(logits, y):
    beta = 1.0 - tf.reduce_mean(y)
    pos_w = beta / (1.0 - beta + 1e-6)
    return tf.reduce_mean(tf.nn.weighted_cross_entropy_with_logits(y, logits, pos_w))


def main(_):
    sections, masks = load_sections(FLAGS.data_dir, 'train')
    v_sections, v_masks = load_sections(FLAGS.data_dir, 'valid')

    x = tf.placeholder(tf.float32, [None, 128, 128, 1])
    y = tf.placeholder(tf.float32, [None, 128, 128, 1])
    training = tf.placeholder(tf.bool, [])
    logits = fault_net(x, training)
    loss = balanced_bce(logits, y) + tf.losses.get_regularization_loss()

    gstep = tf.train.get_or_create_global_step()
    lr = tf.train.piecewise_constant(gstep, [15000, 30000], [FLAGS.lr, FLAGS.lr * 0.1, FLAGS.lr * 0.01])
    opt = tf.train.MomentumOptimizer(lr, 0.9)
    train_op = opt.minimize(loss, global_step=gstep)

    pred = tf.cast(tf.sigmoid(logits) > 0.5, tf.float32)
    tp = tf.reduce_sum(pred * y)
    f1 = 2 * tp / (tf.reduce_sum(pred) + tf.reduce_sum(y) + 1e-6)

    saver = tf.train.Saver()
    config = tf.ConfigProto()
    config.gpu_options.allow_growth = True
    with tf.Session(config=config) as sess:
        sess.run(tf.global_variables_initializer())
        ckpt = tf.train.latest_checkpoint(FLAGS.train_dir)
        if ckpt:
            saver.restore(sess, ckpt)
        step = sess.run(gstep)
        while step < FLAGS.max_steps:
            bx, by = random_crops(sections, masks, FLAGS.batch_size, 128)
            _, l, step = sess.run([train_op, loss, gstep], {x: bx, y: by, training: True})
            if step % 500 == 0:
                vx, vy = random_crops(v_sections, v_masks, 64, 128, seed=0)
                vf1 = sess.run(f1, {x: vx, y: vy, training: False})
                print('step %d loss %.4f val F1 %.4f' % (step, l, vf1))
                sys.stdout.flush()
            if step % 5000 == 0:
                saver.save(sess, os.path.join(FLAGS.train_dir, 'model.ckpt'), global_step=step)


if __name__ == '__main__':
    tf.app.run()

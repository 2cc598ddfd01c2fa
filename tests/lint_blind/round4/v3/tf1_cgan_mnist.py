"""Conditional DCGAN on MNIST, TensorFlow 1.x graph mode."""
import os

import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

flags = tf.app.flags
flags.DEFINE_integer("batch_size", 64, "")
flags.DEFINE_integer("z_dim", 100, "")
flags.DEFINE_integer("steps", 30000, "")
flags.DEFINE_string("logdir", "/tmp/cgan_mnist", "")
FLAGS = flags.FLAGS


def lrelu(x, a=0.2):
    return tf.maximum(x, a * x)


def _bn(x, is_training, name):
    return tf.layers.batch_normalization(x, training=is_training, momentum=0.9, name=name)  # expect: MG501


def generator(z, y, is_training, reuse=False):
    with tf.variable_scope("generator", reuse=reuse):
        h = tf.concat([z, y], axis=1)
        h = tf.nn.relu(_bn(tf.layers.dense(h, 1024), is_training, "bn0"))
        h = tf.nn.relu(_bn(tf.layers.dense(h, 7 * 7 * 128), is_training, "bn1"))
        h = tf.reshape(h, [-1, 7, 7, 128])
        h = tf.nn.relu(_bn(tf.layers.conv2d_transpose(h, 64, 4, 2, "same"), is_training, "bn2"))
        return tf.nn.sigmoid(tf.layers.conv2d_transpose(h, 1, 4, 2, "same"))


def discriminator(x, y, reuse=False):
    with tf.variable_scope("discriminator", reuse=reuse):
        ymap = tf.tile(tf.reshape(y, [-1, 1, 1, 10]), [1, 28, 28, 1])
        h = tf.concat([x, ymap], axis=3)
        h = lrelu(tf.layers.conv2d(h, 64, 4, 2, "same"))
        h = lrelu(tf.layers.conv2d(h, 128, 4, 2, "same"))
        h = tf.layers.flatten(h)
        h = lrelu(tf.layers.dense(tf.concat([h, y], 1), 1024))
        return tf.layers.dense(h, 1)


def main(_):
    mnist = input_data.read_data_sets("MNIST_data", one_hot=True)
    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
    y = tf.placeholder(tf.float32, [None, 10], name="y")
    z = tf.placeholder(tf.float32, [None, FLAGS.z_dim], name="z")
    is_training = tf.placeholder_with_default(True, [], name="is_training")

    fake = generator(z, y, is_training)
    d_real = discriminator(x, y)
    d_fake = discriminator(fake, y, reuse=True)
    sampler = generator(z, y, False, reuse=True)

    xent = tf.nn.sigmoid_cross_entropy_with_logits
    d_loss = tf.reduce_mean(xent(logits=d_real, labels=tf.ones_like(d_real))) + \
        tf.reduce_mean(xent(logits=d_fake, labels=tf.zeros_like(d_fake)))
    g_loss = tf.reduce_mean(xent(logits=d_fake, labels=tf.ones_like(d_fake)))

    t_vars = tf.trainable_variables()
    d_vars = [v for v in t_vars if v.name.startswith("discriminator")]
    g_vars = [v for v in t_vars if v.name.startswith("generator")]
    d_step = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(d_loss, var_list=d_vars)
    g_step = tf.train.AdamOptimizer(2e-4, beta1=0.5).minimize(g_loss, var_list=g_vars)

    tf.summary.scalar("d_loss", d_loss)
    tf.summary.scalar("g_loss", g_loss)
    merged = tf.summary.merge_all()
    saver = tf.train.Saver(max_to_keep=3)

    sample_z = np.random.uniform(-1, 1, [100, FLAGS.z_dim]).astype(np.float32)
    sample_y = np.eye(10)[np.repeat(np.arange(10), 10)].astype(np.float32)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        writer = tf.summary.FileWriter(FLAGS.logdir, sess.graph)
        for step in range(FLAGS.steps):
            bx, by = mnist.train.next_batch(FLAGS.batch_size)
            bx = bx.reshape(-1, 28, 28, 1)
            bz = np.random.uniform(-1, 1, [FLAGS.batch_size, FLAGS.z_dim])
            feed = {x: bx, y: by, z: bz}
            sess.run(d_step, feed_dict=feed)
            sess.run(g_step, feed_dict=feed)
            _, summ = sess.run([g_step, merged], feed_dict=feed)
            if step % 500 == 0:
                writer.add_summary(summ, step)
                imgs = sess.run(sampler, feed_dict={z: sample_z, y: sample_y})
                np.save(os.path.join(FLAGS.logdir, "samples_%06d.npy" % step), imgs)
                saver.save(sess, os.path.join(FLAGS.logdir, "model.ckpt"), global_step=step)


if __name__ == "__main__":
    tf.app.run()

"""DCGAN on CelebA 64x64, TensorFlow 1.x.

Generator uses tf.layers.batch_normalization (moving stats via UPDATE_OPS);
discriminator uses tf.contrib.layers.batch_norm with in-place updates.
"""
import os

import numpy as np
import tensorflow as tf

from celeba import image_batches

flags = tf.app.flags
flags.DEFINE_integer("epochs", 25, "")
flags.DEFINE_integer("batch_size", 64, "")
flags.DEFINE_float("lr", 2e-4, "")
flags.DEFINE_string("ckpt_dir", "checkpoints/dcgan", "")
FLAGS = flags.FLAGS


def generator(z, is_training, reuse=False):
    with tf.variable_scope("generator", reuse=reuse):
        x = tf.layers.dense(z, 4 * 4 * 512, use_bias=False)
        x = tf.reshape(x, [-1, 4, 4, 512])
        x = tf.nn.relu(tf.layers.batch_normalization(x, training=is_training, momentum=0.9))
        for ch in (256, 128, 64):
            x = tf.layers.conv2d_transpose(x, ch, 5, strides=2, padding="same", use_bias=False)
            x = tf.nn.relu(tf.layers.batch_normalization(x, training=is_training, momentum=0.9))
        x = tf.layers.conv2d_transpose(x, 3, 5, strides=2, padding="same")
        return tf.tanh(x)


def discriminator(images, is_training, reuse=False):
    with tf.variable_scope("discriminator", reuse=reuse):
        x = tf.nn.leaky_relu(tf.layers.conv2d(images, 64, 5, strides=2, padding="same"), 0.2)
        for ch in (128, 256, 512):
            x = tf.layers.conv2d(x, ch, 5, strides=2, padding="same", use_bias=False)
            x = tf.contrib.layers.batch_norm(x, decay=0.9, epsilon=1e-5, scale=True, is_training=is_training,
                                             updates_collections=None)
            x = tf.nn.leaky_relu(x, 0.2)
        x = tf.layers.flatten(x)
        x = tf.layers.dropout(x, rate=0.3, training=is_training)
        return tf.layers.dense(x, 1)


def build(batch_size, z_dim=100):
    z = tf.placeholder(tf.float32, [None, z_dim], name="z")
    real = tf.placeholder(tf.float32, [None, 64, 64, 3], name="real")
    is_training = tf.placeholder_with_default(True, [], name="is_training")

    fake = generator(z, is_training)
    d_real = discriminator(real, is_training)
    d_fake = discriminator(fake, is_training, reuse=True)
    sampler = generator(z, False, reuse=True)

    bce = tf.nn.sigmoid_cross_entropy_with_logits
    d_loss = tf.reduce_mean(bce(logits=d_real, labels=tf.ones_like(d_real) * 0.9)) + \
        tf.reduce_mean(bce(logits=d_fake, labels=tf.zeros_like(d_fake)))
    g_loss = tf.reduce_mean(bce(logits=d_fake, labels=tf.ones_like(d_fake)))

    t_vars = tf.trainable_variables()
    d_vars = [v for v in t_vars if v.name.startswith("discriminator")]
    g_vars = [v for v in t_vars if v.name.startswith("generator")]

    g_update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope="generator")
    d_opt = tf.train.AdamOptimizer(FLAGS.lr, beta1=0.5).minimize(d_loss, var_list=d_vars)
    with tf.control_dependencies(g_update_ops):
        g_opt = tf.train.AdamOptimizer(FLAGS.lr, beta1=0.5).minimize(g_loss, var_list=g_vars)
    return dict(z=z, real=real, is_training=is_training, sampler=sampler, d_loss=d_loss, g_loss=g_loss,
                d_opt=d_opt, g_opt=g_opt)


def main(_):
    g = build(FLAGS.batch_size)
    saver = tf.train.Saver(max_to_keep=3)
    os.makedirs(FLAGS.ckpt_dir, exist_ok=True)
    fixed_z = np.random.uniform(-1, 1, (64, 100)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        step = 0
        for epoch in range(FLAGS.epochs):
            for real in image_batches("data/celeba", FLAGS.batch_size):
                z = np.random.uniform(-1, 1, (FLAGS.batch_size, 100)).astype(np.float32)
                _, dl = sess.run([g["d_opt"], g["d_loss"]], {g["z"]: z, g["real"]: real})
                _, gl = sess.run([g["g_opt"], g["g_loss"]], {g["z"]: z})
                step += 1
                if step % 500 == 0:
                    samples = sess.run(g["sampler"], {g["z"]: fixed_z})
                    np.save(os.path.join(FLAGS.ckpt_dir, f"samples_{step:06d}.npy"), samples)
                    print(f"epoch {epoch} step {step} d {dl:.3f} g {gl:.3f}")
            saver.save(sess, os.path.join(FLAGS.ckpt_dir, "model"), global_step=step)


if __name__ == "__main__":
    tf.app.run()

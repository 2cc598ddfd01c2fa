"""DCGAN on MNIST, TensorFlow 1.x graph mode (tf.layers)."""
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

Z_DIM = 100
BATCH = 64
STEPS = 20000
LR = 2e-4

mnist = input_data.read_data_sets("MNIST_data")
z_in = tf.placeholder(tf.float32, [None, Z_DIM], name="z")
x_in = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
train_flag = tf.placeholder(tf.bool, [], name="train_flag")


def generator(z, training, reuse=False):
    with tf.variable_scope("generator", reuse=reuse):
        h = tf.layers.dense(z, 7 * 7 * 128, use_bias=False)
        h = tf.nn.relu(tf.layers.batch_normalization(h, training=training))
        h = tf.reshape(h, [-1, 7, 7, 128])
        h = tf.layers.conv2d_transpose(h, 64, 5, strides=2, padding="same", use_bias=False)
        h = tf.nn.relu(tf.layers.batch_normalization(h, training=training))
        return tf.layers.conv2d_transpose(h, 1, 5, strides=2, padding="same", activation=tf.nn.tanh)


def discriminator(x, training, reuse=False):
    with tf.variable_scope("discriminator", reuse=reuse):
        h = tf.nn.leaky_relu(tf.layers.conv2d(x, 64, 5, strides=2, padding="same"), 0.2)
        h = tf.layers.conv2d(h, 128, 5, strides=2, padding="same", use_bias=False)
        h = tf.nn.leaky_relu(tf.layers.batch_normalization(h, training=training), 0.2)
        return tf.layers.dense(tf.layers.flatten(h), 1)


fake = generator(z_in, train_flag)
d_real = discriminator(x_in, train_flag)
d_fake = discriminator(fake, train_flag, reuse=True)

xent = tf.nn.sigmoid_cross_entropy_with_logits
d_loss = tf.reduce_mean(xent(labels=tf.ones_like(d_real) * 0.9, logits=d_real)) + \
    tf.reduce_mean(xent(labels=tf.zeros_like(d_fake), logits=d_fake))
g_loss = tf.reduce_mean(xent(labels=tf.ones_like(d_fake), logits=d_fake))

g_vars = tf.trainable_variables("generator")
d_vars = tf.trainable_variables("discriminator")
g_updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope="generator")
d_updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope="discriminator")
with tf.control_dependencies(d_updates):
    d_opt = tf.train.AdamOptimizer(LR, beta1=0.5).minimize(d_loss, var_list=d_vars)
with tf.control_dependencies(g_updates):
    g_opt = tf.train.AdamOptimizer(LR, beta1=0.5).minimize(g_loss, var_list=g_vars)

sample_z = np.random.uniform(-1, 1, size=(16, Z_DIM)).astype(np.float32)
os.makedirs("samples", exist_ok=True)

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for step in range(STEPS):
        xb, _ = mnist.train.next_batch(BATCH)
        xb = xb.reshape(-1, 28, 28, 1) * 2.0 - 1.0
        zb = np.random.uniform(-1, 1, size=(BATCH, Z_DIM))
        _, dl = sess.run([d_opt, d_loss], {x_in: xb, z_in: zb, train_flag: True})
        _, gl = sess.run([g_opt, g_loss], {z_in: zb, train_flag: True})
        if step % 1000 == 0:
            imgs = sess.run(fake, {z_in: sample_z, train_flag: False})
            fig, axes = plt.subplots(4, 4, figsize=(4, 4))
            for ax, im in zip(axes.ravel(), imgs):
                ax.imshow(im[..., 0], cmap="gray")
                ax.axis("off")
            fig.savefig("samples/step_%06d.png" % step)
            plt.close(fig)
            print("step %d  d_loss %.3f  g_loss %.3f" % (step, dl, gl))
    tf.train.Saver().save(sess, "ckpt/dcgan")

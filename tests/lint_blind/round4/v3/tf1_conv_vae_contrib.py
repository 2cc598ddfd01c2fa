# Convolutional VAE on CelebA crops, TF 1.x with tf.contrib.layers.
# batch_norm uses updates_collections=None: the moving averages are updated in place
# during the forward pass, so no UPDATE_OPS bookkeeping is needed around the optimizer.
import os
import argparse

import numpy as np
import tensorflow as tf

slim_bn = tf.contrib.layers.batch_norm
xavier = tf.contrib.layers.xavier_initializer


def conv_bn(x, n, is_training, stride=2, scope=None):
    with tf.variable_scope(scope):
        h = tf.contrib.layers.conv2d(x, n, 4, stride, activation_fn=None, weights_initializer=xavier())
        h = slim_bn(h, decay=0.99, is_training=is_training, updates_collections=None, scale=True)
        return tf.nn.elu(h)


def deconv_bn(x, n, is_training, scope=None):
    with tf.variable_scope(scope):
        h = tf.contrib.layers.conv2d_transpose(x, n, 4, 2, activation_fn=None, weights_initializer=xavier())
        h = slim_bn(h, decay=0.99, is_training=is_training, updates_collections=None, scale=True)
        return tf.nn.elu(h)


class ConvVAE(object):
    def __init__(self, z_dim=64, lr=5e-4):
        self.x = tf.placeholder(tf.float32, [None, 64, 64, 3], name="images")
        self.is_training = tf.placeholder_with_default(False, [], name="is_training")
        with tf.variable_scope("enc"):
            h = self.x
            for i, n in enumerate((32, 64, 128, 256)):
                h = conv_bn(h, n, self.is_training, scope="c%d" % i)
            h = tf.contrib.layers.flatten(h)
            self.mu = tf.contrib.layers.fully_connected(h, z_dim, activation_fn=None)
            self.log_var = tf.contrib.layers.fully_connected(h, z_dim, activation_fn=None)
        eps = tf.random_normal(tf.shape(self.mu))
        self.z = self.mu + tf.exp(0.5 * self.log_var) * eps
        self.recon = self._decode(self.z)

        rec = tf.reduce_sum(tf.square(self.recon - self.x), axis=[1, 2, 3])
        kl = -0.5 * tf.reduce_sum(1 + self.log_var - tf.square(self.mu) - tf.exp(self.log_var), axis=1)
        self.loss = tf.reduce_mean(rec + kl)
        self.global_step = tf.train.get_or_create_global_step()
        self.train_op = tf.train.AdamOptimizer(lr).minimize(self.loss, global_step=self.global_step)

        self.z_in = tf.placeholder(tf.float32, [None, z_dim])
        self.generated = self._decode(self.z_in, reuse=True)

    def _decode(self, z, reuse=None):
        with tf.variable_scope("dec", reuse=reuse):
            h = tf.contrib.layers.fully_connected(z, 4 * 4 * 256, activation_fn=tf.nn.elu)
            h = tf.reshape(h, [-1, 4, 4, 256])
            for i, n in enumerate((128, 64, 32)):
                h = deconv_bn(h, n, self.is_training, scope="d%d" % i)
            return tf.contrib.layers.conv2d_transpose(h, 3, 4, 2, activation_fn=tf.nn.sigmoid)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npy", required=True, help="uint8 array N x 64 x 64 x 3")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--out", default="vae_tf1")
    args = ap.parse_args()

    data = np.load(args.npy).astype(np.float32) / 255.0
    vae = ConvVAE()
    saver = tf.train.Saver()
    os.makedirs(args.out, exist_ok=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(args.epochs):
            np.random.shuffle(data)
            for i in range(0, len(data) - args.bs + 1, args.bs):
                _, loss = sess.run([vae.train_op, vae.loss], {vae.x: data[i:i + args.bs], vae.is_training: True})
            held = sess.run(vae.loss, {vae.x: data[:512]})
            print("epoch %d train %.2f held-out %.2f" % (epoch, loss, held))
            imgs = sess.run(vae.generated, {vae.z_in: np.random.randn(64, 64)})
            np.save(os.path.join(args.out, "gen_%03d.npy" % epoch), imgs)
            saver.save(sess, os.path.join(args.out, "vae.ckpt"), global_step=vae.global_step)


if __name__ == "__main__":
    main()

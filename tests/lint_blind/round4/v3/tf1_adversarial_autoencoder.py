"""Adversarial autoencoder (Makhzani et al.) in TensorFlow 1.x.

Three phases per batch: reconstruction, regularisation (discriminator), and
generator (encoder fools the discriminator).
"""
import numpy as np
import tensorflow as tf

Z = 8
BATCH = 100


def dense_bn(x, units, is_training, scope):
    with tf.variable_scope(scope):
        h = tf.layers.dense(x, units, use_bias=False)
        h = tf.layers.batch_normalization(h, training=is_training)
        return tf.nn.relu(h)


def encoder(x, is_training, reuse=None):
    with tf.variable_scope("encoder", reuse=reuse):
        h = dense_bn(x, 1000, is_training, "l1")
        h = dense_bn(h, 1000, is_training, "l2")
        return tf.layers.dense(h, Z)


def decoder(z, is_training, reuse=None):
    with tf.variable_scope("decoder", reuse=reuse):
        h = dense_bn(z, 1000, is_training, "l1")
        h = tf.layers.dropout(h, rate=0.2, training=is_training)
        h = dense_bn(h, 1000, is_training, "l2")
        return tf.layers.dense(h, 784)


def discriminator(z, reuse=None):
    with tf.variable_scope("disc", reuse=reuse):
        h = tf.nn.leaky_relu(tf.layers.dense(z, 500))
        h = tf.nn.leaky_relu(tf.layers.dense(h, 500))
        return tf.layers.dense(h, 1)


def scoped_train_op(loss, scope, lr, beta1=0.5):
    """Minimise `loss` w.r.t. variables under `scope`, running that scope's BN updates first."""
    variables = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope=scope)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS, scope=scope)
    with tf.control_dependencies(updates):
        return tf.train.AdamOptimizer(lr, beta1=beta1).minimize(loss, var_list=variables)


def build():
    x = tf.placeholder(tf.float32, [None, 784])
    prior = tf.placeholder(tf.float32, [None, Z])
    is_training = tf.placeholder(tf.bool, [])

    z = encoder(x, is_training)
    logits = decoder(z, is_training)
    recon_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits))

    d_real, d_fake = discriminator(prior), discriminator(z, reuse=True)
    xent = tf.nn.sigmoid_cross_entropy_with_logits
    d_loss = tf.reduce_mean(xent(labels=tf.ones_like(d_real), logits=d_real)) + \
        tf.reduce_mean(xent(labels=tf.zeros_like(d_fake), logits=d_fake))
    g_loss = tf.reduce_mean(xent(labels=tf.ones_like(d_fake), logits=d_fake))

    ae_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "encoder") + \
        tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, "decoder")
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        ae_op = tf.train.AdamOptimizer(1e-3, beta1=0.9).minimize(recon_loss, var_list=ae_vars)
    d_op = scoped_train_op(d_loss, "disc", 1e-4)
    g_op = scoped_train_op(g_loss, "encoder", 1e-4)

    sample_z = tf.placeholder(tf.float32, [None, Z])
    samples = tf.nn.sigmoid(decoder(sample_z, False, reuse=True))
    return dict(x=x, prior=prior, is_training=is_training, ae_op=ae_op, d_op=d_op, g_op=g_op,
                recon=recon_loss, d_loss=d_loss, g_loss=g_loss, sample_z=sample_z, samples=samples)


def train(images, epochs=100):
    g = build()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(epochs):
            np.random.shuffle(images)
            for i in range(0, len(images) - BATCH + 1, BATCH):
                xb = images[i:i + BATCH]
                pz = np.random.randn(BATCH, Z).astype(np.float32) * 5.0
                feed = {g["x"]: xb, g["prior"]: pz, g["is_training"]: True}
                sess.run(g["ae_op"], feed)
                sess.run(g["d_op"], feed)
                sess.run(g["g_op"], feed)
            rl, dl, gl = sess.run([g["recon"], g["d_loss"], g["g_loss"]],
                                  {g["x"]: images[:1000], g["prior"]: np.random.randn(1000, Z) * 5.0,
                                   g["is_training"]: False})
            print("epoch %d recon %.4f D %.4f G %.4f" % (epoch, rl, dl, gl))
        return sess.run(g["samples"], {g["sample_z"]: np.random.randn(64, Z) * 5.0})

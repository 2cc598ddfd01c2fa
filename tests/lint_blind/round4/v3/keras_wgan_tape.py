import argparse
import os

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def make_generator(latent_dim=128):
    return keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        layers.Dense(4 * 4 * 256, use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Reshape((4, 4, 256)),
        layers.Conv2DTranspose(128, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(0.2),
        layers.Conv2DTranspose(3, 5, strides=2, padding="same", activation="tanh"),
    ], name="generator")


def make_critic():
    return keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(64, 5, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Conv2D(128, 5, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Dropout(0.3),
        layers.Conv2D(256, 5, strides=2, padding="same"),
        layers.LeakyReLU(0.2),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(1),
    ], name="critic")


class WGANGP:
    def __init__(self, latent_dim=128, n_critic=5, gp_weight=10.0):
        self.latent_dim, self.n_critic, self.gp_weight = latent_dim, n_critic, gp_weight
        self.gen, self.critic = make_generator(latent_dim), make_critic()
        self.g_opt = keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
        self.c_opt = keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)

    def gradient_penalty(self, real, fake):
        alpha = tf.random.uniform([tf.shape(real)[0], 1, 1, 1])
        mixed = real + alpha * (fake - real)
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(mixed)
            score = self.critic(mixed, training=True)
        grads = gp_tape.gradient(score, mixed)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
        return tf.reduce_mean((norm - 1.0) ** 2)

    @tf.function
    def train_step(self, real):
        bs = tf.shape(real)[0]
        for _ in range(self.n_critic):
            z = tf.random.normal([bs, self.latent_dim])
            with tf.GradientTape() as tape:
                fake = self.gen(z, training=True)
                c_real = self.critic(real, training=True)
                c_fake = self.critic(fake, training=True)
                c_loss = tf.reduce_mean(c_fake) - tf.reduce_mean(c_real) + self.gp_weight * self.gradient_penalty(real, fake)
            c_grads = tape.gradient(c_loss, self.critic.trainable_variables)
            self.c_opt.apply_gradients(zip(c_grads, self.critic.trainable_variables))

        z = tf.random.normal([bs, self.latent_dim])
        with tf.GradientTape() as tape:
            generated = self.gen(z)  # expect: MG502
            g_loss = -tf.reduce_mean(self.critic(generated, training=True))
        g_grads = tape.gradient(g_loss, self.gen.trainable_variables)
        self.g_opt.apply_gradients(zip(g_grads, self.gen.trainable_variables))
        return c_loss, g_loss

    def sample(self, n):
        return self.gen(tf.random.normal([n, self.latent_dim]), training=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", default="wgan_out")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    (x, _), _ = keras.datasets.cifar10.load_data()
    ds = tf.data.Dataset.from_tensor_slices((x.astype("float32") - 127.5) / 127.5)
    ds = ds.shuffle(50000).batch(args.batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

    gan = WGANGP()
    for epoch in range(args.epochs):
        for step, real in enumerate(ds):
            c_loss, g_loss = gan.train_step(real)
            if step % 200 == 0:
                print(f"epoch {epoch} step {step} critic {float(c_loss):.3f} gen {float(g_loss):.3f}")
        imgs = (gan.sample(64).numpy() + 1) * 127.5
        keras.utils.save_img(os.path.join(args.out, f"ep{epoch:03d}.png"), imgs[0])
        gan.gen.save_weights(os.path.join(args.out, "gen.weights.h5"))


if __name__ == "__main__":
    main()

"""DDPG on a continuous-control gym task with TF2 custom training."""
import gym
import numpy as np
import tensorflow as tf
from tensorflow.keras import Model, layers

from buffers import ReplayBuffer, OUNoise


def build_actor(obs_dim, act_dim, act_limit):
    s = layers.Input(shape=(obs_dim,))
    h = layers.Dense(400)(s)
    h = layers.BatchNormalization()(h)
    h = layers.Activation("relu")(h)
    h = layers.Dense(300)(h)
    h = layers.BatchNormalization()(h)
    h = layers.Activation("relu")(h)
    a = layers.Dense(act_dim, activation="tanh",
                     kernel_initializer=tf.random_uniform_initializer(-3e-3, 3e-3))(h)
    return Model(s, a * act_limit)


def build_critic(obs_dim, act_dim):
    s = layers.Input(shape=(obs_dim,))
    a = layers.Input(shape=(act_dim,))
    h = layers.Dense(400, activation="relu")(s)
    h = layers.Concatenate()([h, a])
    h = layers.Dense(300, activation="relu")(h)
    return Model([s, a], layers.Dense(1)(h))


class Agent:
    def __init__(self, env, gamma=0.99, tau=5e-3):
        self.obs_dim = env.observation_space.shape[0]
        self.act_dim = env.action_space.shape[0]
        self.limit = float(env.action_space.high[0])
        self.gamma, self.tau = gamma, tau
        self.actor = build_actor(self.obs_dim, self.act_dim, self.limit)
        self.critic = build_critic(self.obs_dim, self.act_dim)
        self.actor_targ = build_actor(self.obs_dim, self.act_dim, self.limit)
        self.critic_targ = build_critic(self.obs_dim, self.act_dim)
        self.actor_targ.set_weights(self.actor.get_weights())
        self.critic_targ.set_weights(self.critic.get_weights())
        self.pi_opt = tf.keras.optimizers.Adam(1e-4)
        self.q_opt = tf.keras.optimizers.Adam(1e-3)
        self.noise = OUNoise(self.act_dim, sigma=0.2)

    def act(self, obs, explore=True):
        a = self.actor(obs[None].astype(np.float32), training=False).numpy()[0]
        if explore:
            a = a + self.noise.sample() * self.limit
        return np.clip(a, -self.limit, self.limit)

    @tf.function
    def learn(self, s, a, r, s2, d):
        a2 = self.actor_targ(s2, training=False)
        y = r + self.gamma * (1.0 - d) * tf.squeeze(self.critic_targ([s2, a2]), 1)
        with tf.GradientTape() as tape:
            q = tf.squeeze(self.critic([s, a]), 1)
            q_loss = tf.reduce_mean(tf.square(y - q))
        grads = tape.gradient(q_loss, self.critic.trainable_variables)
        self.q_opt.apply_gradients(zip(grads, self.critic.trainable_variables))

        with tf.GradientTape() as tape:
            pi = self.actor(s)  # expect: MG502
            pi_loss = -tf.reduce_mean(self.critic([s, pi]))
        grads = tape.gradient(pi_loss, self.actor.trainable_variables)
        self.pi_opt.apply_gradients(zip(grads, self.actor.trainable_variables))
        return q_loss, pi_loss

    @tf.function
    def soft_update(self):
        for src, dst in ((self.actor, self.actor_targ), (self.critic, self.critic_targ)):
            for w, wt in zip(src.weights, dst.weights):
                wt.assign(self.tau * w + (1.0 - self.tau) * wt)


def main(env_id="Pendulum-v1", episodes=300, batch_size=128):
    env = gym.make(env_id)
    agent = Agent(env)
    buf = ReplayBuffer(agent.obs_dim, agent.act_dim, size=200_000)
    for ep in range(episodes):
        obs, ep_ret, done = env.reset(), 0.0, False
        agent.noise.reset()
        while not done:
            act = agent.act(obs)
            nxt, rew, done, _ = env.step(act)
            buf.store(obs, act, rew, nxt, float(done))
            obs, ep_ret = nxt, ep_ret + rew
            if buf.size >= batch_size:
                agent.learn(*buf.sample(batch_size))
                agent.soft_update()
        print(f"episode {ep} return {ep_ret:.1f}")


if __name__ == "__main__":
    main()

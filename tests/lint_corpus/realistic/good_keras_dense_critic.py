"""TF2 DDPG-style agent for continuous control: the actor has BatchNormalization and is called with
training=True inside the tape; the critic is built only from Dense and Concatenate layers, so
calling it without a training argument behaves the same in both phases."""
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def build_actor(state_dim, action_dim, action_bound):
    state = keras.Input(shape=(state_dim,))
    x = layers.Dense(256)(state)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dense(256, activation="relu")(x)
    action = layers.Dense(action_dim, activation="tanh")(x) * action_bound
    return keras.Model(state, action)


def build_critic(state_dim, action_dim):
    state = keras.Input(shape=(state_dim,))
    action = keras.Input(shape=(action_dim,))
    s = layers.Dense(128, activation="relu")(state)
    a = layers.Dense(128, activation="relu")(action)
    x = layers.Concatenate()([s, a])
    x = layers.Dense(256, activation="relu")(x)
    q = layers.Dense(1)(x)
    return keras.Model([state, action], q)


actor = build_actor(state_dim=17, action_dim=6, action_bound=1.0)
critic = build_critic(state_dim=17, action_dim=6)
actor_opt = keras.optimizers.Adam(1e-4)
critic_opt = keras.optimizers.Adam(1e-3)


@tf.function
def update_actor(states):
    with tf.GradientTape() as tape:
        actions = actor(states, training=True)
        q_values = critic([states, actions])
        actor_loss = -tf.reduce_mean(q_values)
    grads = tape.gradient(actor_loss, actor.trainable_variables)
    actor_opt.apply_gradients(zip(grads, actor.trainable_variables))
    return actor_loss


@tf.function
def update_critic(states, actions, targets):
    with tf.GradientTape() as tape:
        q_values = critic([states, actions])
        critic_loss = tf.reduce_mean(tf.square(targets - q_values))
    grads = tape.gradient(critic_loss, critic.trainable_variables)
    critic_opt.apply_gradients(zip(grads, critic.trainable_variables))
    return critic_loss

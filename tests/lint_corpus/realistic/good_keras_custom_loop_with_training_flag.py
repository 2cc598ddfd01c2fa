"""TF2 custom training loop done right: training=True inside the tape, False at evaluation."""
import tensorflow as tf
from tensorflow.keras import layers

model = tf.keras.Sequential([layers.Dense(200, activation="relu"), layers.Dropout(0.5), layers.Dense(10)])
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = tf.keras.optimizers.Adam()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = loss_fn(y, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


@tf.function
def test_step(x, y):
    return loss_fn(y, model(x, training=False))

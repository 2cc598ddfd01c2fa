"""Monte Carlo dropout on purpose: the prediction helper runs the model with training=True
several times and reports the mean and the spread of the predictions."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dropout(0.2),
                          keras.layers.Dense(1)])
opt = keras.optimizers.Adam(1e-3)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x, training=True) - y))
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                            model.trainable_variables))
    return loss


def predict_with_uncertainty(x, passes=30):
    draws = np.stack([model(x, training=True).numpy() for _ in range(passes)])
    return draws.mean(0), draws.std(0)


def evaluate(x_val, y_val):
    preds = model(x_val, training=False).numpy()
    return float(np.mean((preds - y_val) ** 2))

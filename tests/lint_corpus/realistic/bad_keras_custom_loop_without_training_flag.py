"""TF2 custom training loop: the model is called inside GradientTape without training=True,
so its Dropout never drops and BatchNormalization never learns batch statistics."""
import tensorflow as tf
from tensorflow.keras import layers


def build_model():
    return tf.keras.Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(200, activation="relu"),
        layers.BatchNormalization(),
        layers.Dropout(0.5),
        layers.Dense(10),
    ])


model = build_model()
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = tf.keras.optimizers.Adam()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        preds = model(x)  # expect: MG502
        loss = loss_fn(y, preds)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

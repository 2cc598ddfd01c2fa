"""Fashion-MNIST with a custom TF2 training loop (tf.GradientTape + tf.function)."""
import time

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

BATCH = 128
EPOCHS = 20

(x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
x_train = (x_train[..., None] / 255.0).astype("float32")
x_test = (x_test[..., None] / 255.0).astype("float32")
x_val, y_val = x_train[-5000:], y_train[-5000:]
x_train, y_train = x_train[:-5000], y_train[:-5000]

train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(BATCH)
val_ds = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(512)
test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(512)


def make_model():
    return keras.Sequential([
        layers.Conv2D(32, 3, padding="same", use_bias=False, input_shape=(28, 28, 1)),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.Conv2D(64, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(256, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10),
    ])


model = make_model()
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam(1e-3)
train_acc = keras.metrics.SparseCategoricalAccuracy()
val_acc = keras.metrics.SparseCategoricalAccuracy()
train_loss = keras.metrics.Mean()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x)  # expect: MG502
        loss = loss_fn(y, logits)
        loss += sum(model.losses)
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
    train_acc.update_state(y, logits)
    train_loss.update_state(loss)
    return loss


@tf.function
def test_step(x, y):
    logits = model(x, training=False)
    val_acc.update_state(y, logits)


for epoch in range(EPOCHS):
    t0 = time.time()
    for x_batch, y_batch in train_ds:
        train_step(x_batch, y_batch)
    for x_batch, y_batch in val_ds:
        test_step(x_batch, y_batch)
    print(f"epoch {epoch + 1}: loss {float(train_loss.result()):.4f} "
          f"acc {float(train_acc.result()):.4f} val_acc {float(val_acc.result()):.4f} "
          f"({time.time() - t0:.1f}s)")
    train_acc.reset_states()
    val_acc.reset_states()
    train_loss.reset_states()

preds = np.concatenate([np.argmax(model.predict(xb, verbose=0), axis=1) for xb, _ in test_ds])
print("test accuracy:", (preds == y_test).mean())
model.save("fashion_cnn.h5")

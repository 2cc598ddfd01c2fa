"""Keras transfer learning with a correct custom loop; the submission helper was copied from
the training step and still passes training=True, so dropout and BatchNormalization run in
training mode while predicting the test set."""
import tensorflow as tf
from tensorflow import keras

base = keras.applications.EfficientNetB0(include_top=False, pooling="avg")
net = keras.Sequential([base, keras.layers.BatchNormalization(), keras.layers.Dropout(0.3),
                        keras.layers.Dense(5)])
opt = keras.optimizers.Adam(1e-4)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, net(images, training=True))
    opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
    return loss


def predict_batch(images):
    logits = net(images, training=True)  # expect: MG502
    return tf.nn.softmax(logits).numpy()


def run(train_ds, test_ds, epochs=5):
    for _ in range(epochs):
        for images, labels in train_ds:
            train_step(images, labels)
    return [predict_batch(images) for images in test_ds]

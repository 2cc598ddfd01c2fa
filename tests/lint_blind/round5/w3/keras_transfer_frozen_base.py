"""Cats vs dogs: transfer learning then fine-tuning with a Keras EfficientNetB0 base (TF 2.x).

Follows the usual recipe: the base model is always called with training=False so that its
BatchNormalization layers keep running in inference mode, even after unfreezing it.
"""
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow import keras
from tensorflow.keras import layers

IMG = 224
BATCH = 32

(train_ds, val_ds, test_ds), info = tfds.load(
    "cats_vs_dogs", split=["train[:80%]", "train[80%:90%]", "train[90%:]"],
    as_supervised=True, with_info=True)


def prep(img, label):
    return tf.image.resize(img, (IMG, IMG)), label


train_ds = train_ds.map(prep).shuffle(1000).batch(BATCH).prefetch(tf.data.AUTOTUNE)
val_ds = val_ds.map(prep).batch(BATCH).prefetch(tf.data.AUTOTUNE)
test_ds = test_ds.map(prep).batch(BATCH).prefetch(tf.data.AUTOTUNE)

augmentation = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)],
                                name="augmentation")

base_model = keras.applications.EfficientNetB0(weights="imagenet", include_top=False,
                                               input_shape=(IMG, IMG, 3))
base_model.trainable = False

inputs = keras.Input(shape=(IMG, IMG, 3))
x = augmentation(inputs)
x = base_model(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)

model.compile(optimizer=keras.optimizers.Adam(1e-3),
              loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy()])
model.fit(train_ds, epochs=10, validation_data=val_ds)

# Stage 2: unfreeze the top of the base and fine-tune with a small learning rate.
base_model.trainable = True
for layer in base_model.layers[:-40]:
    layer.trainable = False
model.compile(optimizer=keras.optimizers.Adam(1e-5),
              loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy()])
model.fit(train_ds, epochs=5, validation_data=val_ds,
          callbacks=[keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)])

print("test:", model.evaluate(test_ds, return_dict=True))

probs = tf.sigmoid(model.predict(test_ds)).numpy().ravel()
labels = np.concatenate([y.numpy() for _, y in test_ds])
print("accuracy from predict():", ((probs > 0.5) == labels).mean())

# One small batch through the model as a function call: explicit inference mode.
images, _ = next(iter(test_ds))
batch_logits = model(images[:8], training=False)
print(tf.sigmoid(batch_logits).numpy().ravel())
model.save("cats_dogs_effnet.keras")

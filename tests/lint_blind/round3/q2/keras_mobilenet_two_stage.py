#!/usr/bin/env python
# coding: utf-8

# # Dogs vs cats - MobileNetV2, two-stage transfer learning (Keras)
# Stage 1: frozen base, train the head. Stage 2: unfreeze the top of the base with a tiny lr.

# In[1]:


import numpy as np
import pandas as pd
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

IMG_SIZE = (160, 160)
BATCH_SIZE = 32


# In[2]:


train_dataset = keras.utils.image_dataset_from_directory(
    "cats_and_dogs/train", shuffle=True, batch_size=BATCH_SIZE, image_size=IMG_SIZE)
validation_dataset = keras.utils.image_dataset_from_directory(
    "cats_and_dogs/validation", shuffle=False, batch_size=BATCH_SIZE, image_size=IMG_SIZE)
val_batches = tf.data.experimental.cardinality(validation_dataset)
test_dataset = validation_dataset.take(val_batches // 5)
validation_dataset = validation_dataset.skip(val_batches // 5)


# In[3]:


augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)])
preprocess_input = keras.applications.mobilenet_v2.preprocess_input

base_model = keras.applications.MobileNetV2(input_shape=IMG_SIZE + (3,), include_top=False, weights="imagenet")
base_model.trainable = False

inputs = keras.Input(shape=IMG_SIZE + (3,))
x = augment(inputs)
x = preprocess_input(x)
# keep the base in inference mode so its BatchNorm layers do not update, also later when unfrozen
x = base_model(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.2)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)

model.compile(optimizer=keras.optimizers.Adam(1e-4),
              loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])
model.summary()


# In[4]:


loss0, accuracy0 = model.evaluate(validation_dataset)
print(f"before training: loss {loss0:.2f} acc {accuracy0:.2f}")
history = model.fit(train_dataset, epochs=10, validation_data=validation_dataset)


# In[5]:


base_model.trainable = True
fine_tune_at = 100
for layer in base_model.layers[:fine_tune_at]:
    layer.trainable = False

model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
              optimizer=keras.optimizers.RMSprop(learning_rate=1e-5),
              metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")])
history_fine = model.fit(train_dataset, epochs=20, initial_epoch=history.epoch[-1],
                         validation_data=validation_dataset)


# In[6]:


hist = pd.DataFrame(history.history)
hist_fine = pd.DataFrame(history_fine.history)
curves = pd.concat([hist, hist_fine], ignore_index=True)
curves = curves.eval("gap = accuracy - val_accuracy")
print(curves.tail())


# In[7]:


loss, accuracy = model.evaluate(test_dataset)
print("Test accuracy :", accuracy)

image_batch, label_batch = test_dataset.as_numpy_iterator().next()
predictions = model.predict_on_batch(image_batch).flatten()
predictions = tf.where(tf.nn.sigmoid(predictions) < 0.5, 0, 1)
print("Predictions:\n", predictions.numpy())
print("Labels:\n", label_batch)

model.save("mobilenetv2_catsdogs.keras")

#!/usr/bin/env python
# coding: utf-8

# ## Flower classification - EfficientNetB0 + custom loop
# v7: custom training loop so that I can use mixup later

# In[ ]:


import os
import numpy as np
import pandas as pd
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

IMG = 224
BATCH = 32
AUTO = tf.data.AUTOTUNE
DATA = "../input/flowers-recognition/flowers"


# In[ ]:


train_ds = keras.utils.image_dataset_from_directory(
    DATA, validation_split=0.2, subset="training", seed=1, image_size=(IMG, IMG), batch_size=BATCH)
val_ds = keras.utils.image_dataset_from_directory(
    DATA, validation_split=0.2, subset="validation", seed=1, image_size=(IMG, IMG), batch_size=BATCH)
class_names = train_ds.class_names
train_ds = train_ds.prefetch(AUTO)
val_ds = val_ds.prefetch(AUTO)


# In[ ]:


def build(n_classes):
    base = keras.applications.EfficientNetB0(include_top=False, weights="imagenet", input_shape=(IMG, IMG, 3))
    base.trainable = False
    inp = keras.Input((IMG, IMG, 3))
    x = layers.RandomFlip("horizontal")(inp)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.3)(x)
    out = layers.Dense(n_classes)(x)
    return keras.Model(inp, out)


net = build(len(class_names))
opt = keras.optimizers.Adam(1e-3)
ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
acc_metric = keras.metrics.SparseCategoricalAccuracy()
val_metric = keras.metrics.SparseCategoricalAccuracy()


# In[ ]:


@tf.function
def step(x, y):
    with tf.GradientTape() as tape:
        logits = net(x, training=True)
        loss = ce(y, logits)
    grads = tape.gradient(loss, net.trainable_weights)
    opt.apply_gradients(zip(grads, net.trainable_weights))
    acc_metric.update_state(y, logits)
    return loss


@tf.function
def val_step(x, y):
    val_metric.update_state(y, net(x, training=False))


for epoch in range(8):
    acc_metric.reset_state()
    val_metric.reset_state()
    losses = [step(x, y) for x, y in train_ds]
    for x, y in val_ds:
        val_step(x, y)
    print(f"epoch {epoch}: loss={np.mean(losses):.4f} acc={acc_metric.result():.4f} "
          f"val_acc={val_metric.result():.4f}")


# In[ ]:


# predictions for the test folder -> submission
def predict_batch(images):
    logits = net(images, training=True)  # expect: MG502
    return tf.nn.softmax(logits).numpy()


test_files = sorted(os.listdir("../input/flowers-test/images"))
rows = []
for i in range(0, len(test_files), BATCH):
    names = test_files[i:i + BATCH]
    imgs = np.stack([
        keras.utils.img_to_array(keras.utils.load_img(
            os.path.join("../input/flowers-test/images", n), target_size=(IMG, IMG)))
        for n in names
    ])
    probs = predict_batch(imgs)
    rows += [(n, class_names[int(p.argmax())]) for n, p in zip(names, probs)]

pd.DataFrame(rows, columns=["id", "label"]).to_csv("submission.csv", index=False)

"""Transfer learning on a flowers dataset with a frozen EfficientNet base (TF 2.x).

Phase 1 trains only the head through ``fit`` with a customised ``train_step``;
phase 2 unfreezes the top of the base and continues in a hand-written loop.
"""
import argparse

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

IMG = 224


class FlowerNet(keras.Model):
    def __init__(self, n_classes, label_smoothing=0.1, **kw):
        super().__init__(**kw)
        self.augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)])
        self.base = keras.applications.EfficientNetB0(include_top=False, weights="imagenet",
                                                      input_shape=(IMG, IMG, 3))
        self.base.trainable = False
        self.pool = layers.GlobalAveragePooling2D()
        self.bn = layers.BatchNormalization()
        self.drop = layers.Dropout(0.3)
        self.classifier = layers.Dense(n_classes)
        self.loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.acc = keras.metrics.CategoricalAccuracy(name="acc")

    def call(self, images, training=False):
        x = self.augment(images, training=training)
        # keep the base in inference mode even when its top is unfrozen later
        x = self.base(x, training=False)
        x = self.bn(self.pool(x), training=training)
        x = self.drop(x, training=training)
        return self.classifier(x)

    @property
    def metrics(self):
        return [self.loss_tracker, self.acc]

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            logits = self(x, training=True)
            loss = self.loss_fn(y, logits)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.acc.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        logits = self(x, training=False)
        self.loss_tracker.update_state(self.loss_fn(y, logits))
        self.acc.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}


def datasets(root, batch):
    kw = dict(image_size=(IMG, IMG), batch_size=batch, label_mode="categorical", seed=7, validation_split=0.2)
    tr = keras.utils.image_dataset_from_directory(root, subset="training", **kw)
    va = keras.utils.image_dataset_from_directory(root, subset="validation", **kw)
    return tr.prefetch(tf.data.AUTOTUNE), va.prefetch(tf.data.AUTOTUNE), len(tr.class_names)


def finetune(model, train_ds, val_ds, epochs, lr):
    for layer in model.base.layers[-20:]:
        if not isinstance(layer, layers.BatchNormalization):
            layer.trainable = True
    opt = keras.optimizers.Adam(lr)
    val_acc = keras.metrics.CategoricalAccuracy()

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = model.loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def evaluate(x, y):
        val_acc.update_state(y, model(x, training=False))

    for ep in range(epochs):
        for x, y in train_ds:
            loss = step(x, y)
        val_acc.reset_state()
        for x, y in val_ds:
            evaluate(x, y)
        print(f"[finetune {ep}] last loss {float(loss):.4f} val acc {float(val_acc.result()):.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    train_ds, val_ds, n_classes = datasets(a.root, a.batch)
    model = FlowerNet(n_classes)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(train_ds, validation_data=val_ds, epochs=10)
    finetune(model, train_ds, val_ds, epochs=5, lr=1e-5)
    print(model.evaluate(val_ds, return_dict=True))
    probs = tf.nn.softmax(model.predict(val_ds.take(1)))
    print(probs.shape)


if __name__ == "__main__":
    main()

"""Fine-tune an EfficientNet backbone on the flowers dataset, TF2 / Keras 3 style.

Stage 1 trains the head with a frozen backbone (BN frozen too: trainable=False
puts Keras BatchNormalization into inference mode); stage 2 unfreezes the top
blocks with a custom GradientTape loop.
"""
import argparse

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class FlowerClassifier(keras.Model):
    def __init__(self, n_classes, drop=0.2):
        super().__init__()
        self.backbone = keras.applications.EfficientNetB0(include_top=False, weights="imagenet", pooling="avg")
        self.backbone.trainable = False
        self.bn = layers.BatchNormalization()
        self.drop = layers.Dropout(drop)
        self.out = layers.Dense(n_classes)

    def call(self, images, training=False):
        # the frozen backbone always runs in inference mode
        feats = self.backbone(images, training=False)
        return self.out(self.drop(self.bn(feats, training=training), training=training))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            logits = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=logits)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        for m in self.metrics:
            if m.name != "loss":
                m.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        logits = self(x, training=False)
        self.compute_loss(y=y, y_pred=logits)
        for m in self.metrics:
            if m.name != "loss":
                m.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}


class TemperatureScaler(keras.Model):
    """Post-hoc calibration: a single scalar, no dropout or normalization."""

    def __init__(self):
        super().__init__()
        self.log_t = tf.Variable(0.0, trainable=True)

    def call(self, logits):
        return logits / tf.exp(self.log_t)


def finetune_top(model, train_ds, val_ds, epochs, n_unfreeze=20, lr=1e-5):
    model.backbone.trainable = True
    for layer in model.backbone.layers[:-n_unfreeze]:
        layer.trainable = False
    for layer in model.backbone.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    opt = keras.optimizers.Adam(lr)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    acc = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    for epoch in range(epochs):
        for x, y in train_ds:
            step(x, y)
        acc.reset_state()
        for x, y in val_ds:
            acc.update_state(y, model(x, training=False))
        print(f"finetune epoch {epoch}: val acc {acc.result():.4f}")


def calibrate(model, val_ds, steps=200):
    scaler = TemperatureScaler()
    opt = keras.optimizers.SGD(0.01)
    logits = tf.concat([model(x, training=False) for x, _ in val_ds], axis=0)
    labels = tf.concat([y for _, y in val_ds], axis=0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, scaler(logits)))
        opt.apply_gradients(zip(tape.gradient(loss, scaler.trainable_variables), scaler.trainable_variables))
    return float(tf.exp(scaler.log_t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/flowers")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    train_ds = keras.utils.image_dataset_from_directory(args.data + "/train", image_size=(224, 224), batch_size=32)
    val_ds = keras.utils.image_dataset_from_directory(args.data + "/val", image_size=(224, 224), batch_size=64)
    model = FlowerClassifier(len(train_ds.class_names))
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")])
    model.fit(train_ds, validation_data=val_ds, epochs=args.epochs)
    finetune_top(model, train_ds, val_ds, epochs=5)
    print("temperature:", calibrate(model, val_ds))
    model.evaluate(val_ds)


if __name__ == "__main__":
    main()

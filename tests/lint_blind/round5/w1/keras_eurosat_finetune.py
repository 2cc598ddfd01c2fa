"""EuroSAT RGB scene classification: EfficientNetB0 transfer learning with a custom loop.

Stage 1 trains the head with the backbone frozen (backbone called with training=False so
its BatchNorm layers stay in inference mode); stage 2 unfreezes the top blocks.
"""
import argparse

import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow.keras import layers

AUTOTUNE = tf.data.AUTOTUNE
IMG = 224


def preprocess(image, label):
    return tf.image.resize(tf.cast(image, tf.float32), (IMG, IMG)), label


def augment(image, label):
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_flip_up_down(image)
    image = tf.image.rot90(image, tf.random.uniform([], 0, 4, tf.int32))
    return image, label


class SceneClassifier(tf.keras.Model):
    def __init__(self, n_classes):
        super().__init__()
        self.backbone = tf.keras.applications.EfficientNetB0(include_top=False, weights="imagenet",
                                                             input_shape=(IMG, IMG, 3))
        self.pool = layers.GlobalAveragePooling2D()
        self.bn = layers.BatchNormalization()
        self.drop = layers.Dropout(0.3)
        self.fc = layers.Dense(n_classes)
        self.backbone_trainable_bn = False

    def call(self, x, training=False):
        feats = self.backbone(x, training=training and self.backbone_trainable_bn)
        h = self.bn(self.pool(feats), training=training)
        return self.fc(self.drop(h, training=training))


def run(model, train_ds, val_ds, epochs, lr):
    opt = tf.keras.optimizers.Adam(lr)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    acc = tf.keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def eval_step(x, y):
        acc.update_state(y, model(x, training=False))

    for ep in range(epochs):
        for x, y in train_ds:
            loss = train_step(x, y)
        acc.reset_state()
        for x, y in val_ds:
            eval_step(x, y)
        print(f"epoch {ep}: loss {float(loss):.4f} val acc {float(acc.result()):.4f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--head-epochs", type=int, default=5)
    ap.add_argument("--ft-epochs", type=int, default=15)
    args = ap.parse_args()

    (tr, va), info = tfds.load("eurosat/rgb", split=["train[:80%]", "train[80%:]"],
                               as_supervised=True, with_info=True)
    n_classes = info.features["label"].num_classes
    tr = tr.map(preprocess, AUTOTUNE).map(augment, AUTOTUNE).shuffle(4096).batch(64).prefetch(AUTOTUNE)
    va = va.map(preprocess, AUTOTUNE).batch(128).prefetch(AUTOTUNE)

    model = SceneClassifier(n_classes)
    model.backbone.trainable = False
    run(model, tr, va, args.head_epochs, 1e-3)

    model.backbone.trainable = True
    for layer in model.backbone.layers[:-40]:
        layer.trainable = False
    run(model, tr, va, args.ft_epochs, 1e-5)
    model.save_weights("eurosat_effb0.weights.h5")


if __name__ == "__main__":
    main()

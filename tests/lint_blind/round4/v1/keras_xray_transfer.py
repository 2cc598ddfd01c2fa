"""Two-phase Keras transfer learning for bone-fracture X-rays (custom loop).

Phase 1 trains only the new head on a frozen EfficientNet; phase 2 unfreezes the
top of the backbone. The backbone is always called with ``training=False`` so its
BatchNormalization layers keep their ImageNet statistics, as the Keras guide recommends.
"""
import argparse

import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

from xray_tfdata import get_datasets


def make_model(img_size=380, n_classes=2):
    base = keras.applications.EfficientNetB4(include_top=False, weights="imagenet",
                                             input_shape=(img_size, img_size, 3))
    base.trainable = False
    inputs = keras.Input((img_size, img_size, 3))
    x = keras.applications.efficientnet.preprocess_input(inputs)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.BatchNormalization(momentum=0.99, epsilon=1e-3)(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(n_classes)(x)
    return keras.Model(inputs, outputs), base


class Loop:
    def __init__(self, model, lr):
        self.model = model
        self.opt = keras.optimizers.Adam(lr)
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.train_acc = keras.metrics.SparseCategoricalAccuracy()
        self.val_auc = keras.metrics.AUC()

    @tf.function
    def train_step(self, x, y):
        with tf.GradientTape() as tape:
            logits = self.model(x, training=True)
            loss = self.loss_fn(y, logits)
        grads = tape.gradient(loss, self.model.trainable_weights)
        self.opt.apply_gradients(zip(grads, self.model.trainable_weights))
        self.train_acc.update_state(y, logits)
        return loss

    @tf.function
    def val_step(self, x, y):
        probs = tf.nn.softmax(self.model(x, training=False))
        self.val_auc.update_state(y, probs[:, 1])

    def fit(self, train_ds, val_ds, epochs, tag):
        best = 0.0
        for ep in range(epochs):
            self.train_acc.reset_state()
            self.val_auc.reset_state()
            for x, y in train_ds:
                loss = self.train_step(x, y)
            for x, y in val_ds:
                self.val_step(x, y)
            auc = float(self.val_auc.result())
            print(f"[{tag}] epoch {ep + 1}: loss {float(loss):.4f} "
                  f"train acc {float(self.train_acc.result()):.4f} val AUC {auc:.4f}")
            if auc > best:
                best = auc
                self.model.save_weights(f"fracture_{tag}.weights.h5")
        return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mura")
    ap.add_argument("--head-epochs", type=int, default=5)
    ap.add_argument("--ft-epochs", type=int, default=15)
    ap.add_argument("--unfreeze-from", type=int, default=-60)
    args = ap.parse_args()

    train_ds, val_ds, test_ds = get_datasets(args.data, batch_size=24)
    model, base = make_model()

    Loop(model, 1e-3).fit(train_ds, val_ds, args.head_epochs, "head")

    base.trainable = True
    for layer in base.layers[:args.unfreeze_from]:
        layer.trainable = False
    Loop(model, 1e-5).fit(train_ds, val_ds, args.ft_epochs, "finetune")

    model.load_weights("fracture_finetune.weights.h5")
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    results = model.evaluate(test_ds, return_dict=True)
    print("test:", results)


if __name__ == "__main__":
    main()

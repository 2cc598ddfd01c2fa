"""Closed-set speaker identification in TF2: a frozen pretrained audio backbone plus a small
trainable head, trained with a custom GradientTape loop."""
import tensorflow as tf
from tensorflow import keras

from spkid.tfdata import make_split

N_SPEAKERS = 251
EPOCHS = 15


def build(n_speakers=N_SPEAKERS):
    backbone = keras.models.load_model("weights/audio_resnet_backbone.keras")
    backbone.trainable = False  # TF2: frozen BN layers also run in inference mode
    inputs = keras.Input(shape=(200, 64, 1))
    x = backbone(inputs, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(256, use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(n_speakers)(x)
    return keras.Model(inputs, outputs)


class SpeakerIdTrainer:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.opt = keras.optimizers.Adam(lr)
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.train_acc = keras.metrics.SparseCategoricalAccuracy()
        self.val_acc = keras.metrics.SparseCategoricalAccuracy()
        self.val_loss = keras.metrics.Mean()

    @tf.function
    def train_step(self, feats, spk):
        with tf.GradientTape() as tape:
            logits = self.model(feats, training=True)
            loss = self.loss_fn(spk, logits)
        grads = tape.gradient(loss, self.model.trainable_weights)
        self.opt.apply_gradients(zip(grads, self.model.trainable_weights))
        self.train_acc.update_state(spk, logits)
        return loss

    @tf.function
    def val_step(self, feats, spk):
        logits = self.model(feats, training=False)
        self.val_loss.update_state(self.loss_fn(spk, logits))
        self.val_acc.update_state(spk, logits)

    def fit(self, train_ds, val_ds, epochs):
        for epoch in range(epochs):
            for m in (self.train_acc, self.val_acc, self.val_loss):
                m.reset_state()
            for feats, spk in train_ds:
                loss = self.train_step(feats, spk)
            for feats, spk in val_ds:
                self.val_step(feats, spk)
            tf.print("epoch", epoch, "loss", loss, "train acc", self.train_acc.result(),
                     "val loss", self.val_loss.result(), "val acc", self.val_acc.result())


if __name__ == "__main__":
    train_ds = make_split("train", batch_size=64, shuffle=True)
    val_ds = make_split("dev", batch_size=128, shuffle=False)
    trainer = SpeakerIdTrainer(build())
    trainer.fit(train_ds, val_ds, EPOCHS)
    trainer.model.save("spkid_head.keras")

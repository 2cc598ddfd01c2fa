"""DS-CNN keyword spotter in TF2/Keras with a custom training loop and mixed precision."""
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

from kws_tf2_data import speech_commands_datasets

keras.mixed_precision.set_global_policy("mixed_float16")


def ds_block(x, filters, stride=1):
    x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.99)(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(filters, 1, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=0.99)(x)
    return layers.ReLU()(x)


def ds_cnn(n_classes, input_shape=(49, 10, 1), width=64, drop=0.2):
    inp = keras.Input(input_shape)
    x = layers.Conv2D(width, (10, 4), strides=(2, 2), padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(drop)(x)
    for _ in range(4):
        x = ds_block(x, width)
    x = layers.Dropout(drop)(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(n_classes, dtype="float32")(x)
    return keras.Model(inp, out)


class KWSLoop:
    def __init__(self, model, lr=1e-3):
        self.model = model
        self.opt = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.Adam(lr))
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.train_acc = keras.metrics.SparseCategoricalAccuracy()
        self.eval_acc = keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(self, x, y):
        with tf.GradientTape() as tape:
            logits = self.model(x, training=True)
            loss = self.loss_fn(y, logits)
            scaled = self.opt.get_scaled_loss(loss)
        grads = self.opt.get_unscaled_gradients(tape.gradient(scaled, self.model.trainable_variables))
        self.opt.apply_gradients(zip(grads, self.model.trainable_variables))
        self.train_acc.update_state(y, logits)
        return loss

    @tf.function
    def eval_step(self, x, y):
        self.eval_acc.update_state(y, self.model(x, training=False))

    def fit(self, train_ds, val_ds, epochs):
        for ep in range(epochs):
            self.train_acc.reset_state()
            self.eval_acc.reset_state()
            for x, y in train_ds:
                loss = self.train_step(x, y)
            for x, y in val_ds:
                self.eval_step(x, y)
            tf.print("epoch", ep, "loss", loss, "train", self.train_acc.result(), "val", self.eval_acc.result())


if __name__ == "__main__":
    train_ds, val_ds, test_ds, labels = speech_commands_datasets("/data/speech_commands", batch_size=100)
    net = ds_cnn(len(labels))
    KWSLoop(net).fit(train_ds, val_ds, epochs=40)
    probs = tf.nn.softmax(net.predict(test_ds), axis=-1)
    y_true = tf.concat([y for _, y in test_ds], axis=0)
    print("test acc", float(tf.reduce_mean(tf.cast(tf.argmax(probs, -1) == tf.cast(y_true, tf.int64), tf.float32))))

"""Keras model with overridden train_step/test_step (mixup + label smoothing), trained with fit()."""
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class MixupClassifier(keras.Model):
    def __init__(self, num_classes=100, alpha=0.2, drop=0.25, **kw):
        super().__init__(**kw)
        self.alpha = alpha
        self.body = keras.Sequential([
            layers.Conv2D(64, 3, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU(),
            layers.Conv2D(128, 3, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
            layers.ReLU(),
            layers.Conv2D(256, 3, strides=2, padding="same", use_bias=False), layers.BatchNormalization(),
            layers.ReLU(),
            layers.GlobalAveragePooling2D(),
        ])
        self.drop = layers.Dropout(drop)
        self.fc = layers.Dense(num_classes)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.acc = keras.metrics.CategoricalAccuracy(name="acc")

    def call(self, x, training=False):
        return self.fc(self.drop(self.body(x, training=training), training=training))

    @property
    def metrics(self):
        return [self.loss_tracker, self.acc]

    def _mix(self, x, y):
        n = tf.shape(x)[0]
        g1 = tf.random.gamma([n], self.alpha)
        g2 = tf.random.gamma([n], self.alpha)
        lam = g1 / (g1 + g2)
        idx = tf.random.shuffle(tf.range(n))
        lx = tf.reshape(lam, [-1, 1, 1, 1])
        ly = tf.reshape(lam, [-1, 1])
        return lx * x + (1 - lx) * tf.gather(x, idx), ly * y + (1 - ly) * tf.gather(y, idx)

    def train_step(self, data):
        x, y = data
        x, y = self._mix(x, y)
        with tf.GradientTape() as tape:
            logits = self(x, training=True)
            loss = self.compiled_loss(y, logits)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.acc.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        logits = self(x, training=False)
        self.loss_tracker.update_state(self.compiled_loss(y, logits))
        self.acc.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}


def main():
    (xtr, ytr), (xte, yte) = keras.datasets.cifar100.load_data()
    ytr, yte = keras.utils.to_categorical(ytr, 100), keras.utils.to_categorical(yte, 100)
    train = tf.data.Dataset.from_tensor_slices((xtr / 255.0, ytr)).shuffle(50_000).batch(128).prefetch(2)
    test = tf.data.Dataset.from_tensor_slices((xte / 255.0, yte)).batch(512)
    model = MixupClassifier()
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1))
    model.fit(train, validation_data=test, epochs=100, callbacks=[
        keras.callbacks.ReduceLROnPlateau(monitor="val_acc", mode="max", patience=8),
        keras.callbacks.EarlyStopping(monitor="val_acc", mode="max", patience=20, restore_best_weights=True),
    ])
    probs = tf.nn.softmax(model.predict(test), -1)
    print("test acc", float(tf.reduce_mean(tf.cast(tf.argmax(probs, -1) == tf.argmax(yte, -1), tf.float32))))


if __name__ == "__main__":
    main()

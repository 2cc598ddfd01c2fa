"""Transfer learning on Oxford-IIIT Pets with a frozen EfficientNetB0 and a custom tape loop.

Follows the Keras recommendation: the frozen base is always called with
training=False so its BatchNormalization layers stay in inference mode, while
the new head (dropout) is trained with training=True.
"""
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow.keras import layers

IMG = 224
NUM_CLASSES = 37


def build():
    base = tf.keras.applications.EfficientNetB0(include_top=False, weights="imagenet",
                                                input_shape=(IMG, IMG, 3))
    base.trainable = False
    inputs = tf.keras.Input((IMG, IMG, 3))
    x = base(inputs, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(NUM_CLASSES)(x)
    return tf.keras.Model(inputs, outputs), base


def prepare(ds, training):
    def _map(item):
        img = tf.image.resize(item["image"], (IMG, IMG))
        if training:
            img = tf.image.random_flip_left_right(img)
        return img, item["label"]
    ds = ds.map(_map, num_parallel_calls=tf.data.AUTOTUNE)
    if training:
        ds = ds.shuffle(2048)
    return ds.batch(32).prefetch(tf.data.AUTOTUNE)


def main(epochs=15):
    train_raw, test_raw = tfds.load("oxford_iiit_pet", split=["train", "test"])
    train_ds, test_ds = prepare(train_raw, True), prepare(test_raw, False)
    model, base = build()
    opt = tf.keras.optimizers.Adam(1e-3)
    ce = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    acc = tf.keras.metrics.SparseCategoricalAccuracy()

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = ce(y, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def eval_step(x, y):
        acc.update_state(y, model(x, training=False))

    for epoch in range(epochs):
        for x, y in train_ds:
            loss = train_step(x, y)
        acc.reset_state()
        for x, y in test_ds:
            eval_step(x, y)
        print(f"epoch {epoch}: last loss {float(loss):.4f} test acc {float(acc.result()):.4f}")
    model.save_weights("pets_effb0_head.weights.h5")


if __name__ == "__main__":
    main()

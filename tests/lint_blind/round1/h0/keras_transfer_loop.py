"""Transfer learning with a frozen EfficientNet base and a custom training loop (TF2)."""
import tensorflow as tf
from tensorflow import keras

IMG = 224
NUM_CLASSES = 37


def build(num_classes=NUM_CLASSES):
    base = keras.applications.EfficientNetB0(include_top=False, weights="imagenet",
                                             input_shape=(IMG, IMG, 3))
    base.trainable = False
    inputs = keras.Input((IMG, IMG, 3))
    x = keras.layers.RandomFlip("horizontal")(inputs)
    # keep the frozen base (and its BatchNormalization layers) in inference mode,
    # also later when it is unfrozen for fine-tuning
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(num_classes)(x)
    return keras.Model(inputs, outputs), base


def datasets(batch=32):
    import tensorflow_datasets as tfds
    (train, test) = tfds.load("oxford_iiit_pet", split=["train", "test"], as_supervised=True)
    prep = lambda x, y: (tf.image.resize(x, (IMG, IMG)), y)
    return (train.map(prep).shuffle(2048).batch(batch).prefetch(2),
            test.map(prep).batch(64).prefetch(2))


def run(epochs_head=5, epochs_ft=5):
    model, base = build()
    train_ds, test_ds = datasets()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    acc = keras.metrics.SparseCategoricalAccuracy()

    def make_step(optimizer):
        @tf.function
        def step(x, y):
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                loss = loss_fn(y, logits)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return step

    @tf.function
    def score(x, y):
        acc.update_state(y, model(x, training=False))

    def evaluate():
        acc.reset_state()
        for x, y in test_ds:
            score(x, y)
        return float(acc.result())

    step = make_step(keras.optimizers.Adam(1e-3))
    for ep in range(epochs_head):
        for x, y in train_ds:
            loss = step(x, y)
        print(f"[head] epoch {ep} loss {float(loss):.3f} test acc {evaluate():.4f}")

    base.trainable = True
    for layer in base.layers[:-40]:
        layer.trainable = False
    step = make_step(keras.optimizers.Adam(1e-5))
    for ep in range(epochs_ft):
        for x, y in train_ds:
            loss = step(x, y)
        print(f"[fine-tune] epoch {ep} loss {float(loss):.3f} test acc {evaluate():.4f}")
    model.save("pets_effnet.keras")


if __name__ == "__main__":
    run()

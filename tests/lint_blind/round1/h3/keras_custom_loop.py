"""Transfer learning on flowers with a custom TF2 training loop.

Stage 1 trains only the new head on top of a frozen EfficientNet; stage 2
unfreezes the top blocks. The base network is always called with
training=False so its BatchNormalization layers keep their ImageNet statistics.
"""
import argparse

import tensorflow as tf


def build(num_classes, img_size):
    base = tf.keras.applications.EfficientNetB0(include_top=False, weights="imagenet",
                                                input_shape=(img_size, img_size, 3))
    base.trainable = False
    inputs = tf.keras.Input((img_size, img_size, 3))
    x = tf.keras.layers.RandomFlip("horizontal")(inputs)
    x = tf.keras.layers.RandomRotation(0.1)(x)
    x = base(x, training=False)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.BatchNormalization()(x)
    x = tf.keras.layers.Dropout(0.3)(x)
    outputs = tf.keras.layers.Dense(num_classes)(x)
    return tf.keras.Model(inputs, outputs), base


def make_ds(path, img_size, bs, training):
    ds = tf.keras.utils.image_dataset_from_directory(path, image_size=(img_size, img_size),
                                                     batch_size=bs, shuffle=training)
    return ds.prefetch(tf.data.AUTOTUNE)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-dir", required=True)
    ap.add_argument("--val-dir", required=True)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--head-epochs", type=int, default=10)
    ap.add_argument("--ft-epochs", type=int, default=10)
    ap.add_argument("--unfreeze", type=int, default=20)
    args = ap.parse_args()

    model, base = build(args.classes, args.size)
    train_ds = make_ds(args.train_dir, args.size, args.bs, True)
    val_ds = make_ds(args.val_dir, args.size, args.bs, False)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_acc = tf.keras.metrics.SparseCategoricalAccuracy()
    val_acc = tf.keras.metrics.SparseCategoricalAccuracy()

    def make_train_step(optimizer):
        @tf.function
        def step(images, labels):
            with tf.GradientTape() as tape:
                logits = model(images, training=True)
                loss = loss_fn(labels, logits) + tf.add_n(model.losses or [0.0])
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            train_acc.update_state(labels, logits)
            return loss
        return step

    @tf.function
    def eval_step(images, labels):
        val_acc.update_state(labels, model(images, training=False))

    def run(epochs, optimizer, tag):
        step = make_train_step(optimizer)
        for epoch in range(epochs):
            train_acc.reset_state()
            val_acc.reset_state()
            for images, labels in train_ds:
                loss = step(images, labels)
            for images, labels in val_ds:
                eval_step(images, labels)
            tf.print(tag, "epoch", epoch, "loss", loss, "train acc", train_acc.result(),
                     "val acc", val_acc.result())

    run(args.head_epochs, tf.keras.optimizers.Adam(1e-3), "[head]")

    base.trainable = True
    for layer in base.layers[:-args.unfreeze]:
        layer.trainable = False
    run(args.ft_epochs, tf.keras.optimizers.Adam(1e-5), "[finetune]")

    model.save("flowers_effnet.keras")
    probs = tf.nn.softmax(model.predict(val_ds.take(1)), axis=-1)
    print(probs.numpy().round(3))


if __name__ == "__main__":
    main()

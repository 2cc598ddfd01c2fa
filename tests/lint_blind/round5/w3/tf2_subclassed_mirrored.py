"""CIFAR-10, subclassed Keras model, custom loop under MirroredStrategy (TF 2.x)."""
import tensorflow as tf

GLOBAL_BATCH = 256
EPOCHS = 40
AUTOTUNE = tf.data.AUTOTUNE


class ConvBlock(tf.keras.layers.Layer):
    def __init__(self, filters, drop):
        super().__init__()
        self.c1 = tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.b1 = tf.keras.layers.BatchNormalization()
        self.c2 = tf.keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)
        self.b2 = tf.keras.layers.BatchNormalization()
        self.pool = tf.keras.layers.MaxPool2D()
        self.drop = tf.keras.layers.Dropout(drop)

    def call(self, x, training=False):
        x = tf.nn.relu(self.b1(self.c1(x), training=training))
        x = tf.nn.relu(self.b2(self.c2(x), training=training))
        return self.drop(self.pool(x), training=training)


class VGGish(tf.keras.Model):
    def __init__(self, num_classes=10):
        super().__init__()
        self.blocks = [ConvBlock(64, 0.2), ConvBlock(128, 0.3), ConvBlock(256, 0.4)]
        self.gap = tf.keras.layers.GlobalAveragePooling2D()
        self.fc = tf.keras.layers.Dense(num_classes)

    def call(self, x, training=False):
        for blk in self.blocks:
            x = blk(x, training=training)
        return self.fc(self.gap(x))


def augment(img, label):
    img = tf.image.random_flip_left_right(img)
    img = tf.image.random_crop(tf.image.resize_with_crop_or_pad(img, 36, 36), [32, 32, 3])
    return img, label


(x_tr, y_tr), (x_te, y_te) = tf.keras.datasets.cifar10.load_data()
x_tr, x_te = x_tr.astype("float32") / 255.0, x_te.astype("float32") / 255.0
train_ds = (tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).shuffle(50000)
            .map(augment, num_parallel_calls=AUTOTUNE).batch(GLOBAL_BATCH).prefetch(AUTOTUNE))
test_ds = tf.data.Dataset.from_tensor_slices((x_te, y_te)).batch(GLOBAL_BATCH)

strategy = tf.distribute.MirroredStrategy()
train_dist = strategy.experimental_distribute_dataset(train_ds)
test_dist = strategy.experimental_distribute_dataset(test_ds)

with strategy.scope():
    model = VGGish()
    schedule = tf.keras.optimizers.schedules.CosineDecay(0.1, EPOCHS * (50000 // GLOBAL_BATCH))
    optimizer = tf.keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)
    loss_obj = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    train_acc = tf.keras.metrics.SparseCategoricalAccuracy()
    test_acc = tf.keras.metrics.SparseCategoricalAccuracy()


def train_step(inputs):
    images, labels = inputs
    with tf.GradientTape() as tape:
        logits = model(images, training=True)
        per_example = loss_obj(labels, logits)
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
        loss += tf.nn.scale_regularization_loss(model.losses)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    train_acc.update_state(labels, logits)
    return loss


def test_step(inputs):
    images, labels = inputs
    test_acc.update_state(labels, model(images, training=False))


@tf.function
def distributed_train_step(batch):
    losses = strategy.run(train_step, args=(batch,))
    return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)


@tf.function
def distributed_test_step(batch):
    strategy.run(test_step, args=(batch,))


for epoch in range(EPOCHS):
    total, n = 0.0, 0
    for batch in train_dist:
        total += distributed_train_step(batch)
        n += 1
    for batch in test_dist:
        distributed_test_step(batch)
    tf.print("epoch", epoch + 1, "loss", total / n, "acc", train_acc.result(), "test", test_acc.result())
    train_acc.reset_states()
    test_acc.reset_states()

model.save_weights("vggish_cifar10")

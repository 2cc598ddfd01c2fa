"""Churn prediction on tabular customer data, TF2 custom training loop with categorical
embeddings (Keras functional model + tf.GradientTape)."""
import pandas as pd
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

CATEGORICAL = {"plan": 6, "region": 40, "device": 12, "payment": 5}
NUMERIC = ["tenure_months", "monthly_charges", "support_calls", "data_gb"]


def make_model(hidden=(256, 128), drop=0.3):
    cat_inputs, cat_embs = [], []
    for name, card in CATEGORICAL.items():
        inp = keras.Input(shape=(1,), dtype="int32", name=name)
        emb = layers.Embedding(card + 1, min(16, (card + 1) // 2 + 1))(inp)
        cat_inputs.append(inp)
        cat_embs.append(layers.Flatten()(emb))
    num_in = keras.Input(shape=(len(NUMERIC),), name="numeric")
    x = layers.Concatenate()(cat_embs + [layers.BatchNormalization()(num_in)])
    for units in hidden:
        x = layers.Dense(units, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Dropout(drop)(x)
    out = layers.Dense(1)(x)
    return keras.Model(cat_inputs + [num_in], out, name="churn_mlp")


def to_dataset(df, batch_size, shuffle):
    feats = {k: df[k].astype("int32").values for k in CATEGORICAL}
    feats["numeric"] = df[NUMERIC].astype("float32").values
    ds = tf.data.Dataset.from_tensor_slices((feats, df["churned"].astype("float32").values))
    if shuffle:
        ds = ds.shuffle(20000, seed=3)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


model = make_model()
optimizer = keras.optimizers.Adam(3e-4)
bce = keras.losses.BinaryCrossentropy(from_logits=True)
train_auc = keras.metrics.AUC(from_logits=True)
val_auc = keras.metrics.AUC(from_logits=True)


@tf.function
def train_step(feats, y):
    with tf.GradientTape() as tape:
        logits = model(feats)  # expect: MG502
        loss = bce(y, tf.squeeze(logits, -1)) + tf.add_n(model.losses or [0.0])
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    train_auc.update_state(y, tf.squeeze(logits, -1))
    return loss


@tf.function
def eval_step(feats, y):
    logits = model(feats, training=False)
    val_auc.update_state(y, tf.squeeze(logits, -1))


def run(csv_path="data/churn.csv", epochs=20):
    df = pd.read_csv(csv_path)
    valid = df.sample(frac=0.15, random_state=3)
    train = df.drop(valid.index)
    train_ds = to_dataset(train, 512, shuffle=True)
    valid_ds = to_dataset(valid, 2048, shuffle=False)
    for epoch in range(epochs):
        train_auc.reset_state()
        val_auc.reset_state()
        for feats, y in train_ds:
            loss = train_step(feats, y)
        for feats, y in valid_ds:
            eval_step(feats, y)
        print(f"epoch {epoch:02d} loss {float(loss):.4f} "
              f"train AUC {train_auc.result():.4f} val AUC {val_auc.result():.4f}")
    model.save("churn_mlp.keras")


if __name__ == "__main__":
    run()

# TF2 basics, notebook 2: fitting a small dense network with tf.GradientTape
# on the auto-mpg data (no dropout / batchnorm yet - that comes in notebook 3).
import pandas as pd
import tensorflow as tf

url = "http://archive.ics.uci.edu/ml/machine-learning-databases/auto-mpg/auto-mpg.data"
cols = ["MPG", "Cylinders", "Displacement", "Horsepower", "Weight", "Acceleration", "Model Year", "Origin"]
raw = pd.read_csv(url, names=cols, na_values="?", comment="\t", sep=" ", skipinitialspace=True).dropna()
raw = pd.get_dummies(raw, columns=["Origin"], prefix="", prefix_sep="", dtype=float)

train_df = raw.sample(frac=0.8, random_state=0)
test_df = raw.drop(train_df.index)
y_train = train_df.pop("MPG").values.astype("float32")
y_test = test_df.pop("MPG").values.astype("float32")

normalizer = tf.keras.layers.Normalization(axis=-1)
normalizer.adapt(train_df.values.astype("float32"))

mpg_model = tf.keras.Sequential([
    normalizer,
    tf.keras.layers.Dense(64, activation="relu"),
    tf.keras.layers.Dense(64, activation="relu"),
    tf.keras.layers.Dense(1),
])
optimizer = tf.keras.optimizers.Adam(0.001)
mae = tf.keras.losses.MeanAbsoluteError()

ds = (tf.data.Dataset.from_tensor_slices((train_df.values.astype("float32"), y_train))
      .shuffle(512).batch(32))


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        pred = tf.squeeze(mpg_model(x), axis=-1)
        loss = mae(y, pred)
    grads = tape.gradient(loss, mpg_model.trainable_variables)
    optimizer.apply_gradients(zip(grads, mpg_model.trainable_variables))
    return loss


history = []
for epoch in range(100):
    epoch_losses = [train_step(x, y).numpy() for x, y in ds]
    history.append(sum(epoch_losses) / len(epoch_losses))
    if epoch % 10 == 0:
        print(f"epoch {epoch:3d}  train MAE {history[-1]:.3f}")

test_pred = mpg_model.predict(test_df.values.astype("float32")).flatten()
print("test MAE:", float(mae(y_test, test_pred)))

pd.DataFrame({"true": y_test, "pred": test_pred}).plot.scatter(x="true", y="pred")

from tensorflow import keras

inputs = keras.Input(shape=(16,))
h = keras.layers.Dense(32)(inputs)
h = keras.layers.Dropout(0.3)(h, training=True)  # expect: MG502
model = keras.Model(inputs, h)

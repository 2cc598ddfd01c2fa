from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(32), keras.layers.Dropout(0.3),
                          keras.layers.BatchNormalization()])

from tensorflow import keras

layer = keras.layers.BatchNormalization(momentum=0.99)

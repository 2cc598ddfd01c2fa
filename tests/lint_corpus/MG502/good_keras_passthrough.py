from tensorflow import keras


class Block(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.drop = keras.layers.Dropout(0.2)

    def call(self, x, training=None):
        return self.drop(x, training=training)

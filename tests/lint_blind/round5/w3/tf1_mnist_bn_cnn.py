# TensorFlow 1.x: CNN with batch normalization on MNIST (graph mode, feed_dict).
import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

mnist = input_data.read_data_sets("/tmp/data/", one_hot=True)

learning_rate = 1e-3
n_epochs = 15
batch_size = 100
keep_rate = 0.5

X = tf.placeholder(tf.float32, shape=[None, 784], name="X")
y = tf.placeholder(tf.float32, shape=[None, 10], name="y")
is_training = tf.placeholder_with_default(False, shape=(), name="is_training")


def conv_bn(inputs, filters, name):
    with tf.variable_scope(name):
        h = tf.layers.conv2d(inputs, filters, kernel_size=3, padding="same", use_bias=False)
        h = tf.layers.batch_normalization(h, training=is_training, momentum=0.9)  # expect: MG501
        return tf.nn.relu(h)


with tf.name_scope("cnn"):
    x_img = tf.reshape(X, [-1, 28, 28, 1])
    h = conv_bn(x_img, 32, "conv1")
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = conv_bn(h, 64, "conv2")
    h = tf.layers.max_pooling2d(h, 2, 2)
    h = tf.layers.flatten(h)
    h = tf.layers.dense(h, 256, activation=tf.nn.relu)
    h = tf.layers.dropout(h, rate=1 - keep_rate, training=is_training)
    logits = tf.layers.dense(h, 10)

with tf.name_scope("loss"):
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))

with tf.name_scope("train"):
    global_step = tf.train.get_or_create_global_step()
    optimizer = tf.train.AdamOptimizer(learning_rate)
    train_op = optimizer.minimize(loss, global_step=global_step)

with tf.name_scope("eval"):
    correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

init = tf.global_variables_initializer()
saver = tf.train.Saver()

with tf.Session() as sess:
    sess.run(init)
    n_batches = mnist.train.num_examples // batch_size
    for epoch in range(n_epochs):
        for _ in range(n_batches):
            xb, yb = mnist.train.next_batch(batch_size)
            sess.run(train_op, feed_dict={X: xb, y: yb, is_training: True})
        # evaluation runs with the default is_training=False
        val_acc = sess.run(accuracy, feed_dict={X: mnist.validation.images, y: mnist.validation.labels})
        tr_acc = sess.run(accuracy, feed_dict={X: xb, y: yb})
        print("Epoch %02d  train acc %.4f  val acc %.4f" % (epoch, tr_acc, val_acc))

    test_acc = np.mean([
        sess.run(accuracy, feed_dict={X: mnist.test.images[i:i + 1000], y: mnist.test.labels[i:i + 1000]})
        for i in range(0, mnist.test.num_examples, 1000)])
    print("Test accuracy: %.4f" % test_acc)
    saver.save(sess, "./ckpt/mnist_bn.ckpt", global_step=global_step)

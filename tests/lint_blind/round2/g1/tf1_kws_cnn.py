"""TF1-style graph for a small keyword-spotting CNN on MFCC features (legacy code path)."""
import os

import numpy as np
import tensorflow.compat.v1 as tf

from speech_commands_input import AudioProcessor

tf.disable_v2_behavior()

FLAGS = tf.app.flags.FLAGS
tf.app.flags.DEFINE_string("data_dir", "/data/speech_commands_v2", "")
tf.app.flags.DEFINE_string("train_dir", "/tmp/kws_train", "")
tf.app.flags.DEFINE_integer("steps", 30000, "")
tf.app.flags.DEFINE_float("lr", 1e-3, "")


def conv_block(x, filters, kernel, stride, is_training, name):
    with tf.variable_scope(name):
        x = tf.layers.conv2d(x, filters, kernel, strides=stride, padding="same", use_bias=False)
        x = tf.layers.batch_normalization(x, training=is_training, momentum=0.99)  # expect: MG501
        return tf.nn.relu(x)


def kws_logits(mfcc, n_labels, is_training, keep_prob):
    x = tf.expand_dims(mfcc, -1)
    x = conv_block(x, 64, (20, 8), (1, 1), is_training, "conv1")
    x = tf.layers.max_pooling2d(x, (2, 2), (2, 2))
    x = conv_block(x, 64, (10, 4), (1, 1), is_training, "conv2")
    x = conv_block(x, 64, (5, 3), (1, 1), is_training, "conv3")
    x = tf.reduce_mean(x, axis=[1, 2])
    x = tf.nn.dropout(x, keep_prob=keep_prob)
    return tf.layers.dense(x, n_labels)


def main(_):
    proc = AudioProcessor(FLAGS.data_dir, wanted_words="yes,no,up,down,left,right,on,off,stop,go")
    n_labels = proc.num_labels

    mfcc = tf.placeholder(tf.float32, [None, 98, 40], name="mfcc")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    is_training = tf.placeholder_with_default(False, [], name="is_training")
    keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")

    logits = kws_logits(mfcc, n_labels, is_training, keep_prob)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    global_step = tf.train.get_or_create_global_step()
    lr = tf.train.exponential_decay(FLAGS.lr, global_step, 10000, 0.3, staircase=True)
    train_op = tf.train.AdamOptimizer(lr).minimize(loss, global_step=global_step)
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32))

    saver = tf.train.Saver(max_to_keep=3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, FLAGS.steps + 1):
            xb, yb = proc.get_batch(100, "training")
            _, l = sess.run([train_op, loss],
                            feed_dict={mfcc: xb, labels: yb, is_training: True, keep_prob: 0.5})
            if step % 1000 == 0:
                accs = []
                for xv, yv in proc.iterate("validation", 500):
                    accs.append(sess.run(acc, feed_dict={mfcc: xv, labels: yv}))
                print(f"step {step} loss {l:.3f} val acc {np.mean(accs):.4f}")
                saver.save(sess, os.path.join(FLAGS.train_dir, "kws.ckpt"), global_step=step)


if __name__ == "__main__":
    tf.app.run()

# Road segmentation (KITTI road) with a small encoder-decoder, TensorFlow 1.x graph mode.
import os
import numpy as np
import tensorflow as tf

from kitti_road import batch_generator, load_val_set

FLAGS = tf.app.flags.FLAGS
tf.app.flags.DEFINE_string("data_dir", "data/data_road", "")
tf.app.flags.DEFINE_string("log_dir", "logs/segnet", "")
tf.app.flags.DEFINE_integer("epochs", 40, "")
tf.app.flags.DEFINE_integer("batch_size", 8, "")
tf.app.flags.DEFINE_float("lr", 1e-3, "")


def conv_block(x, filters, is_training, name):
    with tf.variable_scope(name):
        x = tf.layers.conv2d(x, filters, 3, padding="same", use_bias=False)
        x = tf.layers.batch_normalization(x, training=is_training)  # expect: MG501
        return tf.nn.relu(x)


def encoder_decoder(images, is_training, n_classes=2):
    skips = []
    x = images
    for i, f in enumerate([32, 64, 128, 256]):
        x = conv_block(x, f, is_training, "enc%d_a" % i)
        x = conv_block(x, f, is_training, "enc%d_b" % i)
        skips.append(x)
        x = tf.layers.max_pooling2d(x, 2, 2)
    x = conv_block(x, 512, is_training, "bottleneck")
    x = tf.layers.dropout(x, rate=0.3, training=is_training)
    for i, f in reversed(list(enumerate([32, 64, 128, 256]))):
        x = tf.layers.conv2d_transpose(x, f, 2, strides=2, padding="same")
        x = tf.concat([x, skips[i]], axis=-1)
        x = conv_block(x, f, is_training, "dec%d" % i)
    return tf.layers.conv2d(x, n_classes, 1, name="logits")


def main(_):
    images = tf.placeholder(tf.float32, [None, 160, 576, 3], name="images")
    labels = tf.placeholder(tf.int32, [None, 160, 576], name="labels")
    is_training = tf.placeholder_with_default(False, [], name="is_training")

    logits = encoder_decoder(images, is_training)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    pred = tf.argmax(logits, axis=-1, output_type=tf.int32)
    iou, iou_update = tf.metrics.mean_iou(labels, pred, num_classes=2)
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(FLAGS.lr).minimize(loss, global_step=global_step)
    saver = tf.train.Saver(max_to_keep=3)

    val_x, val_y = load_val_set(FLAGS.data_dir)
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        for epoch in range(FLAGS.epochs):
            losses = []
            for bx, by in batch_generator(FLAGS.data_dir, FLAGS.batch_size):
                _, l = sess.run([train_op, loss],
                                feed_dict={images: bx, labels: by, is_training: True})
                losses.append(l)
            sess.run(tf.local_variables_initializer())
            for i in range(0, len(val_x), 16):
                sess.run(iou_update, feed_dict={images: val_x[i:i + 16], labels: val_y[i:i + 16]})
            print("epoch %d loss %.4f val mIoU %.4f" % (epoch, np.mean(losses), sess.run(iou)))
            saver.save(sess, os.path.join(FLAGS.log_dir, "model.ckpt"), global_step=global_step)


if __name__ == "__main__":
    tf.app.run()

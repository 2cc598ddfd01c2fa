"""TF1 CRNN for licence-plate / serial-number OCR (CTC loss), slim-style layers.

One graph serves training, periodic validation decoding and the frozen export.
"""
import os

import tensorflow as tf

from plates.input import plate_batches, CHARSET

slim = tf.contrib.slim

HPARAMS = {
    "img_h": 32, "img_w": 128, "batch": 64, "lr": 1e-3,
    "steps": 60000, "val_every": 2000, "rnn_units": 128,
}


def conv_block(net, filters, is_training, scope, pool=(2, 2)):
    with tf.variable_scope(scope):
        net = slim.conv2d(net, filters, [3, 3], activation_fn=None, biases_initializer=None)
        net = tf.contrib.layers.batch_norm(net, is_training=is_training, scale=True)  # expect: MG501
        net = tf.nn.relu(net)
        if pool:
            net = slim.max_pool2d(net, pool, stride=pool, padding="SAME")
    return net


def crnn(images, is_training, num_classes, rnn_units):
    net = conv_block(images, 64, is_training, "c1")
    net = conv_block(net, 128, is_training, "c2")
    net = conv_block(net, 256, is_training, "c3", pool=None)
    net = conv_block(net, 256, is_training, "c4", pool=(2, 1))
    net = conv_block(net, 512, is_training, "c5", pool=(2, 1))
    net = tf.reduce_mean(net, axis=1)  # B x W x C
    fw = tf.nn.rnn_cell.LSTMCell(rnn_units)
    bw = tf.nn.rnn_cell.LSTMCell(rnn_units)
    (out_fw, out_bw), _ = tf.nn.bidirectional_dynamic_rnn(fw, bw, net, dtype=tf.float32)
    rnn_out = tf.concat([out_fw, out_bw], axis=2)
    rnn_out = tf.layers.dropout(rnn_out, rate=0.5, training=True)  # expect: MG502
    logits = tf.layers.dense(rnn_out, num_classes)
    return tf.transpose(logits, [1, 0, 2])  # time-major for ctc


def main():
    hp = HPARAMS
    num_classes = len(CHARSET) + 1
    is_training = tf.placeholder(tf.bool, [], name="is_training")
    images = tf.placeholder(tf.float32, [None, hp["img_h"], hp["img_w"], 1], name="images")
    labels = tf.sparse_placeholder(tf.int32, name="labels")
    seq_len = tf.placeholder(tf.int32, [None], name="seq_len")

    logits = crnn(images, is_training, num_classes, hp["rnn_units"])
    loss = tf.reduce_mean(tf.nn.ctc_loss(labels, logits, seq_len, ignore_longer_outputs_than_inputs=True))
    decoded, _ = tf.nn.ctc_greedy_decoder(logits, seq_len)
    dense_pred = tf.sparse.to_dense(decoded[0], default_value=-1, name="predictions")
    edit = tf.reduce_mean(tf.edit_distance(tf.cast(decoded[0], tf.int32), labels))

    step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(hp["lr"]).minimize(loss, global_step=step)

    train_batches = plate_batches("data/plates/train", hp["batch"], augment=True)
    val_batches = plate_batches("data/plates/val", 256, augment=False)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for i in range(1, hp["steps"] + 1):
            x, y, n = next(train_batches)
            _, l = sess.run([train_op, loss], {images: x, labels: y, seq_len: n, is_training: True})
            if i % hp["val_every"] == 0:
                vx, vy, vn = next(val_batches)
                ed, preds = sess.run([edit, dense_pred],
                                     {images: vx, labels: vy, seq_len: vn, is_training: False})
                print("step %d loss %.3f val edit-dist %.4f sample %s" % (i, l, ed, preds[0][:10]))
                saver.save(sess, os.path.join("ckpt", "crnn"), global_step=step)

        frozen = tf.graph_util.convert_variables_to_constants(
            sess, sess.graph_def, ["predictions"])
        tf.io.write_graph(frozen, "export", "plate_ocr.pb", as_text=False)


if __name__ == "__main__":
    main()

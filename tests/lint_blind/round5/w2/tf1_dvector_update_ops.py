"""d-vector speaker encoder (TF1 graph mode) trained with a softmax over training speakers.

The embedding graph is rebuilt with is_training=False for enrolment export.
"""
import os

import numpy as np
import tensorflow as tf

from dvec.feeder import FeatureFeeder

FLAGS = tf.app.flags.FLAGS
tf.app.flags.DEFINE_string("feats_dir", "/data/librispeech/fbank", "training features")
tf.app.flags.DEFINE_integer("num_speakers", 1172, "number of training speakers")
tf.app.flags.DEFINE_integer("steps", 100000, "training steps")
tf.app.flags.DEFINE_float("lr", 1e-3, "learning rate")
tf.app.flags.DEFINE_string("logdir", "logs/dvector", "checkpoint dir")


def dvector_net(frames, is_training, emb_dim=256, reuse=None):
    with tf.variable_scope("dvector", reuse=reuse):
        h = frames
        for i, units in enumerate([512, 512, 512, 512]):
            h = tf.layers.dense(h, units, use_bias=False, name="dense%d" % i)
            h = tf.layers.batch_normalization(h, training=is_training, name="bn%d" % i)
            h = tf.nn.relu(h)
            h = tf.layers.dropout(h, rate=0.2, training=is_training)
        h = tf.reduce_mean(h, axis=1)  # average over frames
        emb = tf.layers.dense(h, emb_dim, name="embedding")
    return emb


def main(_):
    feeder = FeatureFeeder(FLAGS.feats_dir, frames=160, batch_size=128)
    frames = tf.placeholder(tf.float32, [None, 160, 40], name="frames")
    speakers = tf.placeholder(tf.int64, [None], name="speakers")
    is_training = tf.placeholder(tf.bool, [], name="is_training")

    emb = dvector_net(frames, is_training)
    logits = tf.layers.dense(emb, FLAGS.num_speakers, name="spk_softmax")
    loss = tf.losses.sparse_softmax_cross_entropy(speakers, logits)
    acc = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), speakers), tf.float32))

    global_step = tf.train.get_or_create_global_step()
    optimizer = tf.train.AdamOptimizer(FLAGS.lr)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = optimizer.minimize(loss, global_step=global_step)

    # inference-only tower sharing the weights, for export / enrolment
    enrol_frames = tf.placeholder(tf.float32, [None, None, 40], name="enrol_frames")
    enrol_emb = tf.nn.l2_normalize(dvector_net(enrol_frames, False, reuse=True), axis=1,
                                   name="enrol_embedding")

    saver = tf.train.Saver(max_to_keep=5)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, FLAGS.steps + 1):
            x, y = feeder.next_train()
            _, l = sess.run([train_op, loss], {frames: x, speakers: y, is_training: True})
            if step % 500 == 0:
                vx, vy = feeder.next_val()
                va = sess.run(acc, {frames: vx, speakers: vy, is_training: False})
                print("step %d loss %.4f val acc %.4f" % (step, l, va))
            if step % 5000 == 0:
                saver.save(sess, os.path.join(FLAGS.logdir, "model"), global_step=global_step)

        probe = np.random.randn(2, 300, 40).astype(np.float32)
        print("export probe norms:", np.linalg.norm(sess.run(enrol_emb, {enrol_frames: probe}), axis=1))


if __name__ == "__main__":
    tf.app.run()

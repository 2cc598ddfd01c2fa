"""Wide & Deep app-install model, TF1 graph mode (legacy training pipeline)."""
import argparse

import numpy as np
import tensorflow as tf

from pipeline.tfrecords import make_batch_iterator

FLAGS = None


def build_model(wide_ids, deep_ids, dense, is_training, vocab_sizes, embed_dim=32):
    with tf.variable_scope("wide"):
        wide_w = tf.get_variable("w", [sum(vocab_sizes), 1], initializer=tf.zeros_initializer())
        wide_logit = tf.reduce_sum(tf.nn.embedding_lookup(wide_w, wide_ids), axis=1)

    with tf.variable_scope("deep"):
        embs = []
        for i, size in enumerate(vocab_sizes):
            table = tf.get_variable("emb_%d" % i, [size, embed_dim],
                                    initializer=tf.truncated_normal_initializer(stddev=0.02))
            embs.append(tf.nn.embedding_lookup(table, deep_ids[:, i]))
        h = tf.concat(embs + [dense], axis=1)
        for j, units in enumerate([1024, 512, 256]):
            h = tf.layers.dense(h, units, use_bias=False, name="fc%d" % j)
            h = tf.layers.batch_normalization(h, training=is_training, name="bn%d" % j)  # expect: MG501
            h = tf.nn.relu(h)
            h = tf.layers.dropout(h, rate=0.3, training=is_training)
        deep_logit = tf.layers.dense(h, 1, name="out")
    return tf.squeeze(wide_logit + deep_logit, axis=1)


def main(_):
    vocab_sizes = [int(v) for v in FLAGS.vocab_sizes.split(",")]
    is_training = tf.placeholder_with_default(False, shape=(), name="is_training")
    train_it = make_batch_iterator(FLAGS.train_files, FLAGS.batch_size, shuffle=True)
    wide_ids, deep_ids, dense, labels = train_it.get_next()

    logits = build_model(wide_ids, deep_ids, dense, is_training, vocab_sizes)
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))
    auc, auc_update = tf.metrics.auc(labels, tf.sigmoid(logits))

    global_step = tf.train.get_or_create_global_step()
    wide_vars = tf.trainable_variables("wide")
    deep_vars = tf.trainable_variables("deep")
    wide_opt = tf.train.FtrlOptimizer(0.1, l1_regularization_strength=1e-4)
    deep_opt = tf.train.AdagradOptimizer(FLAGS.lr)
    train_op = tf.group(
        wide_opt.minimize(loss, var_list=wide_vars),
        deep_opt.minimize(loss, var_list=deep_vars, global_step=global_step))

    saver = tf.train.Saver(max_to_keep=3)
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        sess.run(train_it.initializer)
        step = 0
        while step < FLAGS.max_steps:
            _, l = sess.run([train_op, loss], feed_dict={is_training: True})
            step += 1
            if step % 1000 == 0:
                print("step %d loss %.5f" % (step, l))
                saver.save(sess, FLAGS.model_dir + "/model.ckpt", global_step=global_step)

        sess.run(tf.local_variables_initializer())
        for _ in range(FLAGS.eval_batches):
            sess.run(auc_update, feed_dict={is_training: False})
        print("train-sample AUC: %.4f" % sess.run(auc))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--train_files", default="gs://bucket/installs/train-*.tfrecord")
    parser.add_argument("--vocab_sizes", default="100000,5000,300,24,7")
    parser.add_argument("--batch_size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--max_steps", type=int, default=200000)
    parser.add_argument("--eval_batches", type=int, default=100)
    parser.add_argument("--model_dir", default="/tmp/wide_deep")
    FLAGS, unparsed = parser.parse_known_args()
    tf.app.run(main=main, argv=[__file__] + unparsed)

"""tf.estimator classifier for the flowers TFRecords (TF 1.13, contrib layers)."""
import argparse

import tensorflow as tf

slim = tf.contrib.slim

FLAGS = None


def input_fn(pattern, batch_size, training):
    def parse(record):
        feats = tf.parse_single_example(record, {
            "image/encoded": tf.FixedLenFeature([], tf.string),
            "image/class/label": tf.FixedLenFeature([], tf.int64)})
        img = tf.image.decode_jpeg(feats["image/encoded"], channels=3)
        img = tf.image.resize_images(img, [160, 160]) / 255.0
        if training:
            img = tf.image.random_flip_left_right(img)
        return img, tf.cast(feats["image/class/label"], tf.int32)

    ds = tf.data.TFRecordDataset(tf.gfile.Glob(pattern)).map(parse, num_parallel_calls=8)
    if training:
        ds = ds.shuffle(2048).repeat()
    return ds.batch(batch_size).prefetch(2)


def _conv_bn_relu(net, filters, is_training, scope):
    with tf.variable_scope(scope):
        net = tf.contrib.layers.conv2d(net, filters, 3, activation_fn=None, biases_initializer=None)
        net = tf.contrib.layers.batch_norm(net, decay=0.99, scale=True, is_training=is_training)  # expect: MG501
        return tf.nn.relu(net)


def model_fn(features, labels, mode, params):
    is_training = mode == tf.estimator.ModeKeys.TRAIN
    net = features
    for i, f in enumerate([32, 64, 128, 256]):
        net = _conv_bn_relu(net, f, is_training, "block%d" % i)
        net = tf.contrib.layers.max_pool2d(net, 2)
    net = tf.reduce_mean(net, axis=[1, 2])
    net = tf.contrib.layers.dropout(net, keep_prob=0.7, is_training=is_training)
    logits = tf.contrib.layers.fully_connected(net, params["num_classes"], activation_fn=None)
    predictions = {"classes": tf.argmax(logits, 1), "probabilities": tf.nn.softmax(logits)}

    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=predictions)

    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    tf.summary.scalar("xent", loss)

    if mode == tf.estimator.ModeKeys.TRAIN:
        lr = tf.train.exponential_decay(params["lr"], tf.train.get_global_step(), 2000, 0.9)
        optimizer = tf.train.MomentumOptimizer(lr, momentum=0.9)
        train_op = optimizer.minimize(loss, global_step=tf.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    metrics = {"accuracy": tf.metrics.accuracy(labels, predictions["classes"])}
    return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops=metrics)


def main(_):
    cfg = tf.estimator.RunConfig(model_dir=FLAGS.model_dir, save_checkpoints_steps=1000)
    est = tf.estimator.Estimator(model_fn, config=cfg,
                                 params={"num_classes": 5, "lr": FLAGS.lr})
    train_spec = tf.estimator.TrainSpec(
        lambda: input_fn(FLAGS.train_files, FLAGS.batch_size, True), max_steps=FLAGS.steps)
    eval_spec = tf.estimator.EvalSpec(
        lambda: input_fn(FLAGS.eval_files, FLAGS.batch_size, False), steps=None, throttle_secs=120)
    tf.estimator.train_and_evaluate(est, train_spec, eval_spec)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--train_files", default="data/flowers_train_*.tfrecord")
    parser.add_argument("--eval_files", default="data/flowers_validation_*.tfrecord")
    parser.add_argument("--model_dir", default="/tmp/flowers_est")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=20000)
    FLAGS, _ = parser.parse_known_args()
    tf.logging.set_verbosity(tf.logging.INFO)
    tf.app.run(main=main)

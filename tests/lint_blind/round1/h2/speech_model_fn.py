"""Keyword-spotting CNN as a tf.estimator model_fn (TF 1.15 / tf.compat.v1)."""
import tensorflow as tf

tf1 = tf.compat.v1


def conv_bn(x, filters, kernel, strides, training, name):
    with tf1.variable_scope(name):
        x = tf1.layers.conv2d(x, filters, kernel, strides, padding="same", use_bias=False)
        x = tf1.layers.batch_normalization(x, momentum=0.99, epsilon=1e-3, training=training, fused=True)
        return tf.nn.relu(x)


def kws_network(features, training, params):
    x = tf.expand_dims(features["mfcc"], -1)               # (B, T, n_mfcc, 1)
    x = conv_bn(x, 64, (20, 8), (1, 1), training, "conv1")
    x = tf1.layers.max_pooling2d(x, (2, 2), (2, 2))
    x = tf1.layers.dropout(x, rate=params["dropout"], training=training)
    x = conv_bn(x, 64, (10, 4), (1, 1), training, "conv2")
    x = tf1.layers.flatten(x)
    x = tf1.layers.dropout(x, rate=params["dropout"], training=training)
    return tf1.layers.dense(x, params["num_labels"])


def model_fn(features, labels, mode, params):
    training = mode == tf.estimator.ModeKeys.TRAIN
    logits = kws_network(features, training, params)
    predictions = {"class_ids": tf.argmax(logits, axis=1), "probabilities": tf.nn.softmax(logits)}

    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode, predictions=predictions,
                                          export_outputs={"serving_default": tf.estimator.export.PredictOutput(
                                              predictions)})

    loss = tf1.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    accuracy = tf1.metrics.accuracy(labels=labels, predictions=predictions["class_ids"])

    if mode == tf.estimator.ModeKeys.EVAL:
        return tf.estimator.EstimatorSpec(mode, loss=loss, eval_metric_ops={"accuracy": accuracy})

    global_step = tf1.train.get_or_create_global_step()
    lr = tf1.train.exponential_decay(params["learning_rate"], global_step, params["decay_steps"], 0.5,
                                     staircase=True)
    optimizer = tf1.train.AdamOptimizer(lr)
    minimize_op = optimizer.minimize(loss, global_step=global_step)
    update_ops = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
    train_op = tf.group(minimize_op, update_ops)
    tf1.summary.scalar("train_accuracy", accuracy[1])
    return tf.estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)


def input_fn(pattern, batch_size, training):
    def parse(record):
        spec = {"mfcc": tf1.FixedLenFeature([98, 40], tf.float32), "label": tf1.FixedLenFeature([], tf.int64)}
        ex = tf1.parse_single_example(record, spec)
        return {"mfcc": ex["mfcc"]}, ex["label"]

    ds = tf.data.TFRecordDataset(tf1.gfile.Glob(pattern)).map(parse, num_parallel_calls=8)
    if training:
        ds = ds.shuffle(10000).repeat()
    return ds.batch(batch_size).prefetch(2)


def main():
    params = {"dropout": 0.5, "num_labels": 12, "learning_rate": 1e-3, "decay_steps": 10000}
    est = tf.estimator.Estimator(model_fn=model_fn, model_dir="runs/kws_cnn", params=params)
    train_spec = tf.estimator.TrainSpec(lambda: input_fn("data/train-*.tfrecord", 100, True), max_steps=30000)
    eval_spec = tf.estimator.EvalSpec(lambda: input_fn("data/val-*.tfrecord", 100, False), throttle_secs=600)
    tf.estimator.train_and_evaluate(est, train_spec, eval_spec)


if __name__ == "__main__":
    main()

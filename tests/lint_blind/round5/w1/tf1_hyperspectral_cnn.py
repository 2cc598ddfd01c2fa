"""Spectral-spatial 3D-CNN for Indian Pines hyperspectral pixel classification (TF1 graph).

Patches of 11x11 pixels x 200 bands around each labelled pixel; 10% of labelled pixels
for training, the rest for testing.
"""
import argparse

import numpy as np
import scipy.io as sio
import tensorflow.compat.v1 as tf
from sklearn.metrics import cohen_kappa_score

tf.disable_eager_execution()


def extract_patches(cube, gt, r=5):
    padded = np.pad(cube, ((r, r), (r, r), (0, 0)), mode="reflect")
    coords = np.argwhere(gt > 0)
    x = np.stack([padded[i:i + 2 * r + 1, j:j + 2 * r + 1] for i, j in coords])
    return x[..., None].astype(np.float32), gt[gt > 0].astype(np.int64) - 1


def model_fn(x, n_classes, is_training):
    h = x
    for i, (f, k) in enumerate([(8, (3, 3, 7)), (16, (3, 3, 5)), (32, (3, 3, 3))]):
        h = tf.layers.conv3d(h, f, k, padding="valid", use_bias=False, name="conv%d" % i)
        h = tf.layers.batch_normalization(h, training=is_training, name="bn%d" % i)
        h = tf.nn.relu(h)
    h = tf.layers.flatten(h)
    h = tf.layers.dense(h, 256, activation=tf.nn.relu)
    h = tf.layers.dropout(h, rate=0.4, training=is_training)
    h = tf.layers.dense(h, 128, activation=tf.nn.relu)
    h = tf.layers.dropout(h, rate=0.4, training=is_training)
    return tf.layers.dense(h, n_classes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cube", default="Indian_pines_corrected.mat")
    ap.add_argument("--gt", default="Indian_pines_gt.mat")
    ap.add_argument("--epochs", type=int, default=100)
    args = ap.parse_args()

    cube = sio.loadmat(args.cube)["indian_pines_corrected"].astype(np.float32)
    cube = (cube - cube.mean((0, 1))) / cube.std((0, 1))
    gt = sio.loadmat(args.gt)["indian_pines_gt"]
    X, Y = extract_patches(cube, gt)
    rng = np.random.RandomState(0)
    idx = rng.permutation(len(X))
    n_tr = len(X) // 10
    tr, te = idx[:n_tr], idx[n_tr:]
    n_classes = int(Y.max()) + 1

    x_ph = tf.placeholder(tf.float32, (None,) + X.shape[1:])
    y_ph = tf.placeholder(tf.int64, (None,))
    train_flag = tf.placeholder(tf.bool, ())
    logits = model_fn(x_ph, n_classes, train_flag)
    loss = tf.losses.sparse_softmax_cross_entropy(y_ph, logits)
    pred = tf.argmax(logits, 1)

    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for ep in range(args.epochs):
            perm = rng.permutation(tr)
            for b in range(0, len(perm), 64):
                bi = perm[b:b + 64]
                sess.run(train_op, {x_ph: X[bi], y_ph: Y[bi], train_flag: True})
            if ep % 10 == 9:
                l = sess.run(loss, {x_ph: X[tr[:512]], y_ph: Y[tr[:512]], train_flag: False})
                print("epoch %d train loss %.4f" % (ep, l))
        preds = np.concatenate([sess.run(pred, {x_ph: X[te[i:i + 512]], train_flag: False})
                                for i in range(0, len(te), 512)])
    oa = (preds == Y[te]).mean()
    aa = np.mean([(preds[Y[te] == c] == c).mean() for c in range(n_classes)])
    print("OA %.4f  AA %.4f  kappa %.4f" % (oa, aa, cohen_kappa_score(Y[te], preds)))


if __name__ == "__main__":
    main()

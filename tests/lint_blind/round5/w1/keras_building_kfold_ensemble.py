"""Predict building footprints on aerial tiles by averaging the 5 cross-validation U-Nets.

Each fold was trained with train_fold.py; here we rebuild the architecture, load the
weights and average sigmoid outputs (plus horizontal-flip TTA) before thresholding.
"""
import argparse
import glob
import os

import numpy as np
import rasterio
import tensorflow as tf
from tensorflow.keras import layers


def conv2(x, f, drop):
    x = layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.SpatialDropout2D(drop)(x) if drop else x


def build_unet(size=512, base=32):
    inp = layers.Input((size, size, 3))
    skips, x = [], inp
    for i in range(4):
        x = conv2(x, base * 2 ** i, 0.1 * i)
        skips.append(x)
        x = layers.MaxPool2D()(x)
    x = conv2(x, base * 16, 0.4)
    for i in reversed(range(4)):
        x = layers.Conv2DTranspose(base * 2 ** i, 2, strides=2)(x)
        x = conv2(layers.Concatenate()([x, skips[i]]), base * 2 ** i, 0.0)
    return tf.keras.Model(inp, layers.Conv2D(1, 1, activation="sigmoid")(x))


def load_fold_models(weights_dir):
    models = []
    for path in sorted(glob.glob(os.path.join(weights_dir, "fold*_best.weights.h5"))):
        m = build_unet()
        m.load_weights(path)
        models.append(m)
    print(f"loaded {len(models)} fold models")
    return models


def predict_fold(model, batch):
    p = model(batch, training=True).numpy()  # expect: MG502
    p_flip = model(batch[:, :, ::-1], training=False).numpy()[:, :, ::-1]
    return 0.5 * (p + p_flip)


def tile_image(img, size=512):
    h, w = img.shape[:2]
    coords = [(y, x) for y in range(0, h - size + 1, size) for x in range(0, w - size + 1, size)]
    return np.stack([img[y:y + size, x:x + size] for y, x in coords]), coords


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scene", required=True)
    ap.add_argument("--weights", default="weights/")
    ap.add_argument("--out", default="pred_mask.tif")
    ap.add_argument("--thr", type=float, default=0.45)
    args = ap.parse_args()

    with rasterio.open(args.scene) as src:
        img = np.transpose(src.read([1, 2, 3]), (1, 2, 0)).astype("float32") / 255.0
        profile = src.profile
    tiles, coords = tile_image(img)
    models = load_fold_models(args.weights)

    prob = np.zeros(tiles.shape[:3], dtype="float32")
    for i in range(0, len(tiles), 8):
        batch = tiles[i:i + 8]
        prob[i:i + 8] = np.mean([predict_fold(m, batch) for m in models], axis=0)[..., 0]

    mask = np.zeros(img.shape[:2], dtype="uint8")
    for (y, x), p in zip(coords, prob):
        mask[y:y + 512, x:x + 512] = (p > args.thr).astype("uint8")
    profile.update(count=1, dtype="uint8", compress="lzw")
    with rasterio.open(args.out, "w", **profile) as dst:
        dst.write(mask, 1)
    print("building fraction", mask.mean())


if __name__ == "__main__":
    main()

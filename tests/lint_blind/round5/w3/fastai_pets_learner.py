"""Oxford-IIIT Pets breed classifier with fastai (v2): fine_tune, interpretation, export.

Everything that switches between training and inference is done by the Learner:
fit/fine_tune put the model in train mode per epoch and validate in eval mode,
get_preds / predict / tta run in eval mode without gradients.
"""
import argparse
from pathlib import Path

import torch
from fastai.callback.all import EarlyStoppingCallback, SaveModelCallback
from fastai.vision.all import (ClassificationInterpretation, ImageDataLoaders, Resize, accuracy,
                               aug_transforms, error_rate, get_image_files, resnet34, untar_data,
                               URLs, vision_learner)


def label_func(fname):
    # file names look like 'great_pyrenees_173.jpg'
    return "_".join(Path(fname).stem.split("_")[:-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--bs", type=int, default=48)
    ap.add_argument("--freeze-epochs", type=int, default=1)
    args = ap.parse_args()

    path = untar_data(URLs.PETS) / "images"
    files = get_image_files(path)
    dls = ImageDataLoaders.from_name_func(
        path, files, label_func, valid_pct=0.2, seed=42, bs=args.bs,
        item_tfms=Resize(460), batch_tfms=aug_transforms(size=224, min_scale=0.75))

    learn = vision_learner(dls, resnet34, metrics=[error_rate, accuracy])
    lr_min, lr_steep = learn.lr_find(suggest_funcs=("minimum", "steep"))
    print(f"suggested lr: min {lr_min:.2e} steep {lr_steep:.2e}")

    learn.fine_tune(args.epochs, base_lr=lr_steep, freeze_epochs=args.freeze_epochs,
                    cbs=[SaveModelCallback(monitor="error_rate", comp=torch.less),
                         EarlyStoppingCallback(monitor="error_rate", comp=torch.less, patience=3)])

    interp = ClassificationInterpretation.from_learner(learn)
    print(interp.most_confused(min_val=4))

    preds, targs = learn.get_preds()
    print("valid accuracy:", (preds.argmax(1) == targs).float().mean().item())
    tta_preds, _ = learn.tta()
    print("valid accuracy with TTA:", (tta_preds.argmax(1) == targs).float().mean().item())

    learn.export("pets_resnet34.pkl")
    sample = files[0]
    pred_class, pred_idx, probs = learn.predict(sample)
    print(sample.name, "->", pred_class, f"{probs[pred_idx]:.3f}")


if __name__ == "__main__":
    main()

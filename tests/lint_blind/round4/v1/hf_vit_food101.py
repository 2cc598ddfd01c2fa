"""Fine-tune a ViT checkpoint on Food-101 with the Hugging Face Trainer, then run a
quick top-k inference pass on a folder of user photos."""
import argparse
import glob

import evaluate
import numpy as np
import torch
from datasets import load_dataset
from PIL import Image
from torchvision.transforms import (CenterCrop, Compose, Normalize, RandomResizedCrop,
                                    RandomHorizontalFlip, Resize, ToTensor)
from transformers import (AutoImageProcessor, AutoModelForImageClassification, Trainer,
                          TrainingArguments, DefaultDataCollator)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="google/vit-base-patch16-224-in21k")
    ap.add_argument("--out", default="vit-food101")
    ap.add_argument("--photos", default="my_photos/*.jpg")
    ap.add_argument("--epochs", type=float, default=3)
    args = ap.parse_args()

    ds = load_dataset("food101")
    labels = ds["train"].features["label"].names
    id2label = {i: l for i, l in enumerate(labels)}
    processor = AutoImageProcessor.from_pretrained(args.ckpt)
    norm = Normalize(mean=processor.image_mean, std=processor.image_std)
    size = processor.size["height"]
    train_tf = Compose([RandomResizedCrop(size), RandomHorizontalFlip(), ToTensor(), norm])
    eval_tf = Compose([Resize(size), CenterCrop(size), ToTensor(), norm])

    def tf_train(batch):
        batch["pixel_values"] = [train_tf(im.convert("RGB")) for im in batch["image"]]
        del batch["image"]
        return batch

    def tf_eval(batch):
        batch["pixel_values"] = [eval_tf(im.convert("RGB")) for im in batch["image"]]
        del batch["image"]
        return batch

    train_ds = ds["train"].with_transform(tf_train)
    val_ds = ds["validation"].with_transform(tf_eval)

    model = AutoModelForImageClassification.from_pretrained(
        args.ckpt, num_labels=len(labels), id2label=id2label,
        label2id={l: i for i, l in id2label.items()}, hidden_dropout_prob=0.1)

    accuracy = evaluate.load("accuracy")

    def compute_metrics(p):
        return accuracy.compute(predictions=np.argmax(p.predictions, axis=1),
                                references=p.label_ids)

    targs = TrainingArguments(
        output_dir=args.out, per_device_train_batch_size=32, per_device_eval_batch_size=64,
        eval_strategy="steps", eval_steps=1000, save_steps=1000, logging_steps=50,
        num_train_epochs=args.epochs, learning_rate=5e-5, warmup_ratio=0.1, fp16=True,
        remove_unused_columns=False, load_best_model_at_end=True,
        metric_for_best_model="accuracy", report_to="tensorboard")
    trainer = Trainer(model=model, args=targs, train_dataset=train_ds, eval_dataset=val_ds,
                      data_collator=DefaultDataCollator(), compute_metrics=compute_metrics)
    trainer.train()
    print(trainer.evaluate())
    trainer.save_model(args.out)

    best = trainer.model
    best.eval()
    device = next(best.parameters()).device
    for path in sorted(glob.glob(args.photos)):
        pix = eval_tf(Image.open(path).convert("RGB")).unsqueeze(0).to(device)
        with torch.no_grad():
            logits = best(pixel_values=pix).logits[0]
        top = torch.topk(logits.softmax(-1), k=3)
        guesses = ", ".join(f"{id2label[i]} ({p:.2f})" for p, i in zip(top.values.tolist(),
                                                                         top.indices.tolist()))
        print(f"{path}: {guesses}")


if __name__ == "__main__":
    main()

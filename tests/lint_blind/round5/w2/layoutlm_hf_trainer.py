"""Fine-tune LayoutLMv3 for key-information extraction on FUNSD-style forms (HF Trainer)."""
import numpy as np
import torch
from datasets import load_dataset
from seqeval.metrics import classification_report, f1_score
from transformers import (AutoModelForTokenClassification, AutoProcessor, Trainer,
                          TrainingArguments, set_seed)

MODEL_ID = "microsoft/layoutlmv3-base"
set_seed(42)

raw = load_dataset("nielsr/funsd-layoutlmv3")
label_list = raw["train"].features["ner_tags"].feature.names
id2label = dict(enumerate(label_list))
label2id = {v: k for k, v in id2label.items()}
processor = AutoProcessor.from_pretrained(MODEL_ID, apply_ocr=False)


def encode(batch):
    enc = processor(batch["image"], batch["tokens"], boxes=batch["bboxes"],
                    word_labels=batch["ner_tags"], truncation=True, padding="max_length")
    return enc


cols = raw["train"].column_names
train_ds = raw["train"].map(encode, batched=True, remove_columns=cols)
test_ds = raw["test"].map(encode, batched=True, remove_columns=cols)
train_ds.set_format("torch")
test_ds.set_format("torch")


def compute_metrics(pred):
    logits, labels = pred
    preds = np.argmax(logits, axis=-1)
    true_seq, pred_seq = [], []
    for p_row, l_row in zip(preds, labels):
        keep = l_row != -100
        true_seq.append([id2label[int(x)] for x in l_row[keep]])
        pred_seq.append([id2label[int(x)] for x in p_row[keep]])
    return {"f1": f1_score(true_seq, pred_seq)}


model = AutoModelForTokenClassification.from_pretrained(MODEL_ID, id2label=id2label, label2id=label2id)

args = TrainingArguments(
    output_dir="out/layoutlmv3-funsd",
    max_steps=1000,
    per_device_train_batch_size=2,
    per_device_eval_batch_size=2,
    learning_rate=1e-5,
    eval_strategy="steps",
    eval_steps=100,
    save_steps=100,
    load_best_model_at_end=True,
    metric_for_best_model="f1",
    fp16=torch.cuda.is_available(),
    report_to="none",
)
trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=test_ds,
                  processing_class=processor, compute_metrics=compute_metrics)
trainer.train()
print(trainer.evaluate())

out = trainer.predict(test_ds)
preds = np.argmax(out.predictions, axis=-1)
y_true = [[id2label[int(l)] for l in row if l != -100] for row in out.label_ids]
y_pred = [[id2label[int(p)] for p, l in zip(prow, lrow) if l != -100]
          for prow, lrow in zip(preds, out.label_ids)]
print(classification_report(y_true, y_pred))

# quick sanity check on one page with the best checkpoint, outside the Trainer
best = trainer.model
best.eval()
sample = test_ds[0]
inputs = {k: sample[k].unsqueeze(0).to(best.device)
          for k in ("input_ids", "attention_mask", "bbox", "pixel_values")}
with torch.no_grad():
    page_logits = best(**inputs).logits
print("first page entity tags:",
      [id2label[i] for i in page_logits.argmax(-1)[0].tolist()[:40]])
trainer.save_model("out/layoutlmv3-funsd/best")

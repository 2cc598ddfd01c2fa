"""DistilBERT on SST-2 with the HF Trainer, then a few hand-written predictions."""
import numpy as np
import torch
from datasets import load_dataset
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding,
                          EarlyStoppingCallback, Trainer, TrainingArguments)

CKPT = "distilbert-base-uncased"
tokenizer = AutoTokenizer.from_pretrained(CKPT)
raw = load_dataset("glue", "sst2")


def tokenize(batch):
    return tokenizer(batch["sentence"], truncation=True, max_length=128)


tokenized = raw.map(tokenize, batched=True)
collator = DataCollatorWithPadding(tokenizer=tokenizer)


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    preds = np.argmax(logits, axis=-1)
    tp = ((preds == 1) & (labels == 1)).sum()
    fp = ((preds == 1) & (labels == 0)).sum()
    fn = ((preds == 0) & (labels == 1)).sum()
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return {"accuracy": float((preds == labels).mean()), "f1": float(f1)}


model = AutoModelForSequenceClassification.from_pretrained(
    CKPT, num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1})

args = TrainingArguments(
    output_dir="sst2-distilbert",
    learning_rate=2e-5,
    per_device_train_batch_size=32,
    per_device_eval_batch_size=64,
    num_train_epochs=3,
    weight_decay=0.01,
    evaluation_strategy="steps",
    eval_steps=500,
    save_steps=500,
    logging_steps=100,
    load_best_model_at_end=True,
    metric_for_best_model="accuracy",
    fp16=torch.cuda.is_available(),
    report_to="none",
)

trainer = Trainer(
    model=model,
    args=args,
    train_dataset=tokenized["train"],
    eval_dataset=tokenized["validation"],
    tokenizer=tokenizer,
    data_collator=collator,
    compute_metrics=compute_metrics,
    callbacks=[EarlyStoppingCallback(early_stopping_patience=3)],
)

trainer.train()
print(trainer.evaluate())

# the GLUE test split has no labels: just write the predictions
pred_out = trainer.predict(tokenized["test"].remove_columns(["label"]))
np.save("sst2_test_logits.npy", pred_out.predictions)
trainer.save_model("sst2-distilbert/best")


# quick sanity check on a few sentences
def classify(texts):
    best = trainer.model
    best.eval()
    enc = tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(best.device)
    with torch.no_grad():
        probs = best(**enc).logits.softmax(-1).cpu().numpy()
    return [(t, best.config.id2label[int(p.argmax())], float(p.max())) for t, p in zip(texts, probs)]


for row in classify(["a gorgeous, witty, seductive movie.",
                     "the plot is nothing but boilerplate clichés",
                     "not bad at all"]):
    print(row)

#!/usr/bin/env python
# coding: utf-8

# # Fine-tuning DistilBERT on SST-2 with the Hugging Face Trainer
# get_ipython().system('pip install -q transformers datasets evaluate')

# In[1]:


import numpy as np
import torch
import evaluate
from datasets import load_dataset
from transformers import (AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, Trainer, TrainingArguments)

checkpoint = "distilbert-base-uncased"
raw = load_dataset("glue", "sst2")
tokenizer = AutoTokenizer.from_pretrained(checkpoint)


# In[2]:


def tokenize(batch):
    return tokenizer(batch["sentence"], truncation=True, max_length=128)


tokenized = raw.map(tokenize, batched=True)
collator = DataCollatorWithPadding(tokenizer=tokenizer)
accuracy = evaluate.load("accuracy")


def compute_metrics(eval_pred):
    logits, labels = eval_pred
    return accuracy.compute(predictions=np.argmax(logits, axis=-1), references=labels)


# In[3]:


model = AutoModelForSequenceClassification.from_pretrained(
    checkpoint, num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1})

args = TrainingArguments(
    output_dir="sst2-distilbert",
    learning_rate=2e-5,
    per_device_train_batch_size=32,
    per_device_eval_batch_size=64,
    num_train_epochs=2,
    weight_decay=0.01,
    evaluation_strategy="steps",
    eval_steps=500,
    save_strategy="steps",
    save_steps=500,
    load_best_model_at_end=True,
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
)


# In[4]:


trainer.train()


# In[5]:


metrics = trainer.evaluate()
print(metrics)


# In[6]:


# try it on my own sentences
sentences = [
    "This movie was a complete waste of two hours.",
    "Surprisingly touching, with a great soundtrack.",
    "Not bad, but I would not watch it again.",
]
device = trainer.model.device
model.eval()
enc = tokenizer(sentences, padding=True, truncation=True, return_tensors="pt").to(device)
with torch.no_grad():
    probs = model(**enc).logits.softmax(-1).cpu().numpy()
for s, p in zip(sentences, probs):
    print(f"{model.config.id2label[int(p.argmax())]:>8s} {p.max():.3f}  {s}")


# In[7]:


trainer.save_model("sst2-distilbert/final")
tokenizer.save_pretrained("sst2-distilbert/final")

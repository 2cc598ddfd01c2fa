"""Custom fine-tuning loop for a Hugging Face classifier; from_pretrained() hands the model
back in eval mode and the loop never switches it."""
import torch
from torch.utils.data import DataLoader
from transformers import AutoModelForSequenceClassification, AutoTokenizer


def main(texts, labels, epochs=3):
    tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
    model = AutoModelForSequenceClassification.from_pretrained("bert-base-uncased", num_labels=2)  # expect: MG101
    enc = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    data = list(zip(enc["input_ids"], enc["attention_mask"], torch.tensor(labels)))
    loader = DataLoader(data, batch_size=16, shuffle=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    for epoch in range(epochs):
        for input_ids, attention_mask, y in loader:
            out = model(input_ids=input_ids, attention_mask=attention_mask, labels=y)
            out.loss.backward()
            optimizer.step()
            optimizer.zero_grad()

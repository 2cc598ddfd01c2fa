"""Train the BiLSTM-CRF tagger on CoNLL-2003 English."""
import json
import sys

import torch

from ner_proj.data import ConllReader, bucket_batches, load_glove
from ner_proj.evaluation import entity_f1
from ner_proj.modeling import build_tagger


def main(config_path):
    with open(config_path) as f:
        cfg = json.load(f)
    device = torch.device(cfg.get("device", "cuda"))

    reader = ConllReader(lowercase=False)
    train = reader.read(cfg["train"])
    dev = reader.read(cfg["dev"])
    test = reader.read(cfg["test"])
    vocab, char_vocab, tag_vocab = reader.build_vocabs(train)
    glove = load_glove(cfg["glove"], vocab)

    tagger = build_tagger(vocab, char_vocab, tag_vocab, cfg, embeddings=glove).to(device)
    optimizer = torch.optim.SGD(tagger.parameters(), lr=cfg["lr"], momentum=0.9)
    decay = lambda epoch: 1.0 / (1.0 + 0.05 * epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, decay)

    best_f1, bad_rounds, step = 0.0, 0, 0
    for epoch in range(cfg["epochs"]):
        for words, chars, tags, mask in bucket_batches(train, cfg["batch_size"], shuffle=True):
            tagger.train()
            loss = tagger.neg_log_likelihood(words.to(device), chars.to(device),
                                             tags.to(device), mask.to(device))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(tagger.parameters(), 5.0)
            optimizer.step()
            step += 1

            if step % cfg["eval_every"] == 0:
                f1 = entity_f1(tagger, bucket_batches(dev, 64), tag_vocab, device)
                print(f"epoch {epoch} step {step} nll {loss.item():.3f} dev F1 {f1:.4f}")
                if f1 > best_f1:
                    best_f1, bad_rounds = f1, 0
                    torch.save(tagger.state_dict(), cfg["checkpoint"])
                else:
                    bad_rounds += 1
        scheduler.step()
        if bad_rounds >= cfg.get("patience", 10):
            break

    tagger.load_state_dict(torch.load(cfg["checkpoint"]))
    print("test F1", entity_f1(tagger, bucket_batches(test, 64), tag_vocab, device, report=True))


if __name__ == "__main__":
    main(sys.argv[1])

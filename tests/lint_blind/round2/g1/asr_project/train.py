"""Train the CRDNN-CTC model on LibriSpeech train-clean-100.

    python -m asr_project.train --config conf/crdnn_ctc.yaml
"""
import argparse
import os

import torch
import yaml
from torch.utils.data import DataLoader

from .data import LibriSpeechFeatures, SentencePieceTokenizer, collate_feats
from .evaluation import corpus_wer
from .model import ModelConfig, build_asr_model


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--resume", default=None)
    return ap.parse_args()


def main():
    args = parse()
    with open(args.config) as fh:
        conf = yaml.safe_load(fh)
    device = torch.device(conf.get("device", "cuda"))

    tokenizer = SentencePieceTokenizer(conf["spm_model"])
    am = build_asr_model(ModelConfig(vocab_size=tokenizer.vocab_size, **conf.get("model", {}))).to(device)
    train_dl = DataLoader(LibriSpeechFeatures(conf["train_csv"], tokenizer), batch_size=conf["batch_size"],
                          shuffle=True, num_workers=6, collate_fn=collate_feats)
    dev_dl = DataLoader(LibriSpeechFeatures(conf["dev_csv"], tokenizer, with_text=True), batch_size=16,
                        num_workers=2, collate_fn=collate_feats)

    ctc_loss = torch.nn.CTCLoss(blank=tokenizer.blank_id, zero_infinity=True)
    optimizer = torch.optim.Adadelta(am.parameters(), lr=1.0, rho=0.95, eps=1e-8)
    start_epoch = 0
    if args.resume:
        ck = torch.load(args.resume, map_location="cpu")
        am.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optim"])
        start_epoch = ck["epoch"] + 1

    global_step = 0
    for epoch in range(start_epoch, conf["epochs"]):
        am.train()
        for feats, feat_lens, tokens, token_lens in train_dl:
            feats, tokens = feats.to(device), tokens.to(device)
            lp = am(feats)
            loss = ctc_loss(lp.transpose(0, 1), tokens, feat_lens, token_lens)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(am.parameters(), 5.0)
            optimizer.step()
            global_step += 1

            if global_step % conf["valid_every"] == 0:
                wer, cer = corpus_wer(am, dev_dl, tokenizer, device, max_batches=50)
                print(f"step {global_step}: loss {loss.item():.3f} dev WER {wer:.3%} CER {cer:.3%}")

        torch.save({"model": am.state_dict(), "optim": optimizer.state_dict(), "epoch": epoch},
                   os.path.join(conf["save_dir"], f"epoch{epoch:03d}.pt"))


if __name__ == "__main__":
    main()

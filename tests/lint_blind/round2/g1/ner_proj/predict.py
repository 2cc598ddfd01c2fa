"""Tag raw text files with a trained BiLSTM-CRF checkpoint.

    python -m ner_proj.predict --ckpt best.pt --vocab vocabs.pkl --input docs/*.txt
"""
import argparse
import glob
import pickle

import torch

from ner_proj.data import sentence_split, tensorize
from ner_proj.modeling import build_tagger


def tag_document(tagger, text, vocabs, device):
    vocab, char_vocab, tag_vocab = vocabs
    out = []
    for sent in sentence_split(text):
        words, chars, mask = tensorize([sent], vocab, char_vocab)
        path = tagger(words.to(device), chars.to(device), mask.to(device))[0]  # expect: MG102
        out.append(list(zip(sent, (tag_vocab.itos[i] for i in path))))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--config", default="conf/conll03.json")
    ap.add_argument("--input", nargs="+", required=True)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    with open(args.vocab, "rb") as f:
        vocabs = pickle.load(f)
    with open(args.config) as f:
        import json
        cfg = json.load(f)
    tagger = build_tagger(*vocabs, cfg).to(args.device)
    tagger.load_state_dict(torch.load(args.ckpt, map_location=args.device))

    with torch.inference_mode():
        for pattern in args.input:
            for path in sorted(glob.glob(pattern)):
                with open(path, encoding="utf-8") as fh:
                    tagged = tag_document(tagger, fh.read(), vocabs, args.device)
                with open(path + ".ner", "w", encoding="utf-8") as fh:
                    for sent in tagged:
                        fh.write("\n".join(f"{w}\t{t}" for w, t in sent) + "\n\n")


if __name__ == "__main__":
    main()

"""Zero-shot image-text retrieval (Flickr30k / COCO 5k) for our dual-encoder checkpoints."""
import argparse
import json

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from dualenc.build import build_image_tower, build_text_tower, load_config
from dualenc.data import CaptionSet, ImageSet, collate_captions
from dualenc.tokenizer import BPETokenizer


def load_towers(ckpt_path, cfg, device):
    state = torch.load(ckpt_path, map_location="cpu")
    image_tower = build_image_tower(cfg.vision)
    text_tower = build_text_tower(cfg.text)
    image_tower.load_state_dict(state["image_tower"])
    text_tower.load_state_dict(state["text_tower"])
    image_tower.to(device).eval()
    text_tower.to(device)
    return image_tower, text_tower, state["logit_scale"].exp().item()


@torch.no_grad()
def embed_images(tower, loader, device):
    chunks = []
    for pixels in loader:
        emb = tower(pixels.to(device, non_blocking=True))
        chunks.append(F.normalize(emb.float(), dim=-1))
    return torch.cat(chunks)


@torch.no_grad()
def embed_captions(tower, loader, device):
    chunks = []
    for tokens, mask in loader:
        emb = tower(tokens.to(device), attention_mask=mask.to(device))  # expect: MG102
        chunks.append(F.normalize(emb.float(), dim=-1))
    return torch.cat(chunks)


def recall_at_k(sim, gt, ks=(1, 5, 10)):
    """sim: [n_query, n_gallery]; gt: list of sets of correct gallery indices per query."""
    ranks = sim.argsort(dim=1, descending=True)
    out = {}
    for k in ks:
        top = ranks[:, :k].tolist()
        out[f"R@{k}"] = 100.0 * sum(bool(set(row) & g) for row, g in zip(top, gt)) / len(gt)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("--config", required=True)
    ap.add_argument("--ann", required=True, help="karpathy-split json")
    ap.add_argument("--images", required=True)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--out", default="retrieval.json")
    args = ap.parse_args()

    device = torch.device("cuda")
    cfg = load_config(args.config)
    image_tower, text_tower, scale = load_towers(args.ckpt, cfg, device)
    tok = BPETokenizer(cfg.text.vocab)

    with open(args.ann) as fh:
        entries = [e for e in json.load(fh)["images"] if e["split"] == "test"]
    captions, cap2img, img2caps = [], [], []
    for img_idx, entry in enumerate(entries):
        img2caps.append(set())
        for sent in entry["sentences"][:5]:
            img2caps[-1].add(len(captions))
            cap2img.append({img_idx})
            captions.append(sent["raw"])

    img_loader = DataLoader(ImageSet(args.images, [e["filename"] for e in entries], cfg.vision.size),
                            batch_size=args.bs, num_workers=8)
    cap_loader = DataLoader(CaptionSet(captions, tok, cfg.text.context), batch_size=args.bs,
                            collate_fn=collate_captions)

    img_emb = embed_images(image_tower, img_loader, device)
    txt_emb = embed_captions(text_tower, cap_loader, device)
    sim = scale * img_emb @ txt_emb.T

    results = {"image_to_text": recall_at_k(sim, img2caps),
               "text_to_image": recall_at_k(sim.T, cap2img)}
    results["rsum"] = sum(v for d in results.values() for v in d.values())
    print(json.dumps(results, indent=2))
    with open(args.out, "w") as fh:
        json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()

# usage: python predict_folder.py --ckpt runs/exp3/best.pth --images test_images/ --out preds.csv
import argparse
import csv
import glob
import os

import torch
import torchvision.models as models
import torchvision.transforms as T
from PIL import Image

parser = argparse.ArgumentParser(description="classify every image in a folder")
parser.add_argument("--ckpt", required=True)
parser.add_argument("--images", required=True)
parser.add_argument("--out", default="preds.csv")
parser.add_argument("--topk", type=int, default=3)
parser.add_argument("--cpu", action="store_true")
args = parser.parse_args()

device = torch.device("cpu" if args.cpu or not torch.cuda.is_available() else "cuda")

ckpt = torch.load(args.ckpt, map_location="cpu")
classes = ckpt["classes"]

# same architecture as in train.py
model = models.resnet50(weights=None)
model.fc = torch.nn.Linear(model.fc.in_features, len(classes))
model.load_state_dict(ckpt["model_state_dict"])
model = model.to(device)

preprocess = T.Compose([
    T.Resize(256),
    T.CenterCrop(224),
    T.ToTensor(),
    T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])

paths = sorted(
    p for p in glob.glob(os.path.join(args.images, "*"))
    if p.lower().endswith((".jpg", ".jpeg", ".png"))
)
print(f"found {len(paths)} images, {len(classes)} classes")

rows = []
with torch.no_grad():
    for path in paths:
        img = Image.open(path).convert("RGB")
        x = preprocess(img).unsqueeze(0).to(device)
        logits = model(x)  # expect: MG102
        probs = torch.softmax(logits, dim=1)[0]
        top_p, top_i = probs.topk(args.topk)
        row = [os.path.basename(path)]
        for p, i in zip(top_p.tolist(), top_i.tolist()):
            row += [classes[i], f"{p:.4f}"]
        rows.append(row)
        print(row[0], "->", row[1], row[2])

with open(args.out, "w", newline="") as f:
    writer = csv.writer(f)
    header = ["file"]
    for k in range(args.topk):
        header += [f"class_{k + 1}", f"prob_{k + 1}"]
    writer.writerow(header)
    writer.writerows(rows)
print("wrote", args.out)

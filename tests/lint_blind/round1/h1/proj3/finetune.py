"""Siamese fine-tuning of a retrieval CNN (GeM pooling, contrastive loss) on SfM tuples."""
import argparse
import os
import time

import numpy as np
import torch
from torchvision import transforms

from bn_utils import count_norm_layers, set_batchnorm_eval
from datasets import TuplesDataset, configdataset, collate_tuples
from evaluate import compute_map_and_print
from extract import extract_vectors
from layers import ContrastiveLoss
from networks import init_network

p = argparse.ArgumentParser()
p.add_argument("directory")
p.add_argument("--arch", default="resnet101")
p.add_argument("--epochs", type=int, default=100)
p.add_argument("--lr", type=float, default=1e-6)
p.add_argument("--image-size", type=int, default=362)
p.add_argument("--neg-num", type=int, default=5)
p.add_argument("--query-size", type=int, default=2000)
p.add_argument("--pool-size", type=int, default=20000)
p.add_argument("--test-datasets", default="roxford5k,rparis6k")


def train_epoch(loader, net, criterion, optimizer, epoch, device):
    # hard-negative mining runs the network itself, so switch back afterwards
    avg_neg_distance = loader.dataset.create_epoch_tuples(net)
    net.train()
    t0 = time.time()
    for i, (inputs, targets) in enumerate(loader):
        optimizer.zero_grad()
        n_tuples = len(inputs)
        for q in range(n_tuples):
            out = torch.zeros(net.meta["outputdim"], len(inputs[q]), device=device)
            for imi, im in enumerate(inputs[q]):
                out[:, imi] = net(im.to(device)).squeeze()
            loss = criterion(out, targets[q].to(device))
            loss.backward()
        optimizer.step()
        if (i + 1) % 100 == 0:
            print(">> epoch %d [%d/%d] loss %.4f neg-dist %.3f (%.1fs)" % (
                epoch, i + 1, len(loader), loss.item(), avg_neg_distance, time.time() - t0))


def test(datasets, net, transform, image_size, device):
    net.eval()
    for name in datasets:
        cfg = configdataset(name, os.path.join("data", "test"))
        images = [cfg["im_fname"](cfg, i) for i in range(cfg["n"])]
        qimages = [cfg["qim_fname"](cfg, i) for i in range(cfg["nq"])]
        vecs = extract_vectors(net, images, image_size, transform, device).numpy()
        qvecs = extract_vectors(net, qimages, image_size, transform, device).numpy()
        ranks = np.argsort(-np.dot(vecs.T, qvecs), axis=0)
        compute_map_and_print(name, ranks, cfg["gnd"])


def main():
    args = p.parse_args()
    device = torch.device("cuda")
    net = init_network(model=args.arch, pooling="gem", whitening=True, pretrained=True).to(device)
    print("norm layers (bn, other):", count_norm_layers(net))
    net.apply(set_batchnorm_eval)

    normalize = transforms.Normalize(mean=net.meta["mean"], std=net.meta["std"])
    transform = transforms.Compose([transforms.ToTensor(), normalize])
    train_set = TuplesDataset(name="retrieval-SfM-120k", mode="train", imsize=args.image_size,
                              nnum=args.neg_num, qsize=args.query_size, poolsize=args.pool_size,
                              transform=transform)
    loader = torch.utils.data.DataLoader(train_set, batch_size=5, shuffle=True, num_workers=8,
                                         pin_memory=True, drop_last=True, collate_fn=collate_tuples)
    criterion = ContrastiveLoss(margin=0.85).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=1e-6)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=np.exp(-0.01))

    tests = args.test_datasets.split(",")
    for epoch in range(args.epochs):
        train_epoch(loader, net, criterion, optimizer, epoch, device)
        scheduler.step()
        if (epoch + 1) % 5 == 0:
            test(tests, net, transform, args.image_size, device)
            torch.save({"epoch": epoch + 1, "state_dict": net.state_dict()},
                       os.path.join(args.directory, "model_epoch%d.pth.tar" % (epoch + 1)))


if __name__ == "__main__":
    main()

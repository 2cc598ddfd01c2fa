"""GraphSAGE with neighbour sampling on ogbn-products (several runs, early stopping)."""
import argparse

import torch
import torch.nn.functional as F
from ogb.nodeproppred import PygNodePropPredDataset, Evaluator
from torch_geometric.loader import NeighborSampler

from model import SAGE
from utils import EarlyStopper, evaluate, log_results, set_seed


def train(model, loader, x, y, optimizer, device):
    model.train()
    total_loss = total = 0
    for batch_size, n_id, adjs in loader:
        adjs = [adj.to(device) for adj in adjs]
        optimizer.zero_grad()
        out = model(x[n_id].to(device), adjs)
        loss = F.cross_entropy(out, y[n_id[:batch_size]].squeeze(1).to(device))
        loss.backward()
        optimizer.step()
        total_loss += float(loss) * batch_size
        total += batch_size
    return total_loss / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default="data/ogb")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--eval_from", type=int, default=5)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--patience", type=int, default=10)
    args = ap.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dataset = PygNodePropPredDataset("ogbn-products", root=args.root)
    split_idx = dataset.get_idx_split()
    data = dataset[0]
    evaluator = Evaluator("ogbn-products")

    train_loader = NeighborSampler(data.edge_index, node_idx=split_idx["train"], sizes=[15, 10, 5],
                                   batch_size=1024, shuffle=True, num_workers=12)
    subgraph_loader = NeighborSampler(data.edge_index, node_idx=None, sizes=[-1], batch_size=4096,
                                      shuffle=False, num_workers=12)

    finals = []
    for run in range(args.runs):
        set_seed(run)
        model = SAGE(dataset.num_features, args.hidden, dataset.num_classes, args.layers,
                     args.dropout).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
        stopper = EarlyStopper(args.patience)
        for epoch in range(1, args.epochs + 1):
            loss = train(model, train_loader, data.x, data.y, optimizer, device)
            if epoch < args.eval_from:
                continue
            res = evaluate(model, data.x, data.y, split_idx, subgraph_loader, evaluator, device)
            log_results(run, epoch, loss, res)
            if stopper.step(res["valid"], model):
                print(f"early stop at epoch {epoch}")
                break
        model.load_state_dict(stopper.best_state)
        res = evaluate(model, data.x, data.y, split_idx, subgraph_loader, evaluator, device)
        finals.append(res["test"])
        print(f"run {run}: best valid {stopper.best:.4f} test {res['test']:.4f}")
    finals = torch.tensor(finals)
    print(f"test acc over {args.runs} runs: {finals.mean():.4f} ± {finals.std():.4f}")


if __name__ == "__main__":
    main()

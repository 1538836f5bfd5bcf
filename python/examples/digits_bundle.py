"""Trains a small residual CNN (conv, BatchNorm, AvgPool, a residual block) on scikit-learn's
8×8 digits and writes it as a cssdbg bundle.

    python python/examples/digits_bundle.py OUT_DIR [--exporter torchscript|dynamo]
"""

import argparse

import torch
from sklearn.datasets import load_digits
from torch import nn

import cssdbg_torch


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        return self.relu2(self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x))))) + x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.block = Block(16)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.block(self.stem(x))), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--exporter", default="torchscript", choices=["torchscript", "dynamo"])
    args = ap.parse_args()
    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target)
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(8):
        model.train()
        perm = torch.randperm(1400)
        for i in range(0, 1400, 50):
            idx = perm[i:i + 50]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x[1400:]).argmax(1) == y[1400:]).float().mean().item()
    print(f"test accuracy {acc:.4f}")
    cssdbg_torch.write_bundle(model, args.out, x[:8], data=x[1400:], labels=y[1400:], calib=x[:400],
                              exporter=args.exporter)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

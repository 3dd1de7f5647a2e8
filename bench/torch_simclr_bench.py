#!/usr/bin/python3
"""The simclr-bench cases in PyTorch, for a side-by-side comparison.

Run with Debian's python3-torch (PyTorch 1.13): /usr/bin/python3.
Same model, same steps, same JSON line as bench/simclr-bench.c:
  contrastive: two views of B images as one batch of 2B through the encoder
    (4 x conv 3x3 stride 2 + ReLU, flatten, Dense(128) + ReLU) and the
    projection head (Dense(128) + ReLU, Dense(128)), NT-Xent (cross-view,
    T = 0.1, summed), backward, Adam; 2B images per step.
  supervised: B images through the encoder and Dense(10), cross-entropy
    (mean), backward, Adam; B images per step.
Channels-last activations, random inputs in [0, 1) (no augmentation).
"""
import argparse
import json
import resource
import statistics
import time

import torch
from torch import nn
import torch.nn.functional as F

WIDTH = 128
SIDE = 96
CLASSES = 10
TEMPERATURE = 0.1


class FlattenNHWC(nn.Module):
    """Flatten in (H, W, C) order, as Keras and our engine do; a free view
    of a channels-last tensor."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


def encoder():
    layers = []
    c = 3
    side = SIDE
    for _ in range(4):
        layers += [nn.Conv2d(c, WIDTH, 3, stride=2), nn.ReLU()]
        c = WIDTH
        side = (side - 3) // 2 + 1
    layers += [FlattenNHWC(), nn.Linear(side * side * WIDTH, WIDTH), nn.ReLU()]
    return nn.Sequential(*layers)


def ntxent(p1, p2):
    """The reference's loss: B x B cross-view logits, both directions."""
    z1 = p1 / p1.norm(dim=1, keepdim=True).clamp_min(1e-7)
    z2 = p2 / p2.norm(dim=1, keepdim=True).clamp_min(1e-7)
    s = z1 @ z2.t() / TEMPERATURE
    target = torch.arange(s.shape[0], device=s.device)
    rows = F.cross_entropy(s, target, reduction="none")
    cols = F.cross_entropy(s.t(), target, reduction="none")
    return 0.5 * (rows + cols)


def make_case(contrastive, batch, device="cpu"):
    """The model, random inputs and one training step on device; returns
    the images per step and the step, which returns the step's loss."""
    torch.manual_seed(1)
    enc = encoder()
    head = (nn.Sequential(nn.Linear(WIDTH, WIDTH), nn.ReLU(), nn.Linear(WIDTH, WIDTH))
            if contrastive else nn.Linear(WIDTH, CLASSES))
    model = nn.Sequential(enc, head).to(device, memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    rows = 2 * batch if contrastive else batch
    x = torch.rand(rows, 3, SIDE, SIDE, device=device)
    x = x.contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, CLASSES, (rows,), device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(x)
        if contrastive:
            loss = ntxent(out[:batch], out[batch:])
            loss.sum().backward()
            value = loss.mean()
        else:
            value = F.cross_entropy(out, labels)
            value.backward()
        opt.step()
        # The step's metric comes back to the host, as in our trainer.
        return float(value)

    return rows, step


def run_case(contrastive, batch, args):
    rows, step = make_case(contrastive, batch)
    loss = 0.0
    for _ in range(args.warmup):
        loss = step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "impl": "torch", "case": "contrastive" if contrastive else "supervised",
        "batch": batch, "images_per_step": rows, "threads": args.threads,
        "steps": args.steps, "median_step_s": round(median, 4),
        "min_step_s": round(min(times), 4), "images_per_s": round(rows / median, 1),
        "loss": round(loss, 4), "peak_rss_mib": round(peak_mib, 1)}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=0, help="B (default: 128 and 525)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--case", default="all",
                    choices=["contrastive", "supervised", "all"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    batches = [args.batch] if args.batch > 0 else [128, 525]
    for batch in batches:
        for contrastive in (True, False):
            if args.case != "all" and (args.case == "contrastive") != contrastive:
                continue
            run_case(contrastive, batch, args)


if __name__ == "__main__":
    main()

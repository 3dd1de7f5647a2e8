#!/usr/bin/env python3
"""The cuda-bench step cases in PyTorch eager on the same GPU, side by side.

Same model and steps as bench/cuda-bench.c (and torch_simclr_bench.py, whose
model and step this reuses): contrastive = two views of B images as one
batch of 2B through the encoder and projection head, NT-Xent (cross-view,
T = 0.1, summed), backward, Adam; supervised = B images, Dense(10),
cross-entropy.
Random float inputs already on the GPU, channels-last, cuDNN autotuning on,
TF32 on for convolutions and matrix products as in our backend (--no-tf32
turns both off). One JSON line per case, as cuda-bench prints them.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_simclr_bench import make_case  # noqa: E402


def run_case(contrastive, args, device):
    torch.cuda.reset_peak_memory_stats(device)
    rows, step = make_case(contrastive, args.batch, device)
    loss = 0.0
    for _ in range(args.warmup):
        loss = step()
    torch.cuda.synchronize(device)
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        loss = step()
        torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    print(json.dumps({
        "impl": "torch-eager-cuda", "case": "contrastive" if contrastive else "supervised",
        "batch": args.batch, "images_per_step": rows, "tf32": not args.no_tf32,
        "steps": args.runs, "median_step_s": round(median, 5),
        "min_step_s": round(min(times), 5), "images_per_s": round(rows / median, 1),
        "loss": round(loss, 4),
        "torch_peak_mib": round(torch.cuda.max_memory_allocated(device) / 2**20, 1),
        "torch": torch.__version__}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=525)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--no-tf32", action="store_true")
    ap.add_argument("--case", default="all", choices=["contrastive", "supervised", "all"])
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("torch_gpu_bench: PyTorch sees no GPU", file=sys.stderr)
        return 77
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = not args.no_tf32
    torch.backends.cuda.matmul.allow_tf32 = not args.no_tf32
    for contrastive in (True, False):
        if args.case == "all" or (args.case == "contrastive") == contrastive:
            run_case(contrastive, args, device)
    return 0


if __name__ == "__main__":
    sys.exit(main())

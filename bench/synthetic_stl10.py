#!/usr/bin/env python3
"""Writes a folder in STL-10's binary format with the real split sizes
(5,000 train, 8,000 test, 100,000 unlabeled 96x96x3 images) and random
pixels, for timing the whole reference protocol where STL-10 itself cannot
be downloaded. Accuracies on it mean nothing; the work per epoch is the
real one.

    bench/synthetic_stl10.py DIR [--unlabeled N]

DIR/stl10_binary gets train_X.bin, train_y.bin, test_X.bin, test_y.bin,
unlabeled_X.bin and class_names.txt."""
import argparse
import os

IMAGE = 96 * 96 * 3
CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship",
           "truck"]


def write_images(path, n, chunk=4096):
    with open(path, "wb") as f:
        for first in range(0, n, chunk):
            f.write(os.urandom(IMAGE * min(chunk, n - first)))


def write_labels(path, n):
    # Balanced labels 1..10, as STL-10 stores them.
    with open(path, "wb") as f:
        f.write(bytes(1 + i % 10 for i in range(n)))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir")
    p.add_argument("--unlabeled", type=int, default=100000)
    a = p.parse_args()
    root = os.path.join(a.dir, "stl10_binary")
    os.makedirs(root, exist_ok=True)
    for split, n in (("train", 5000), ("test", 8000)):
        write_images(os.path.join(root, f"{split}_X.bin"), n)
        write_labels(os.path.join(root, f"{split}_y.bin"), n)
    write_images(os.path.join(root, "unlabeled_X.bin"), a.unlabeled)
    with open(os.path.join(root, "class_names.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    print(root)


if __name__ == "__main__":
    main()

"""Rewrite a checkpoint written by A4.ipynb with its floating-point tensors in half precision.

    python tools/half_precision_checkpoint.py checkpoints/full_from_random.best.pt

For the checkpoints kept in git (the notebook loads them back into fp32): half
the size. Everything else in the file (format tag, epoch, metrics) stays as it is.
"""
import sys
from pathlib import Path

import torch


def halve(path):
    path = Path(path)
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    ckpt["model"] = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["model"].items()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(ckpt, tmp)
    tmp.replace(path)
    return path.stat().st_size


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {halve(name) / 1e6:.1f} MB")

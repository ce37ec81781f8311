"""Levers tried on the notebook's rotation training speed, each measured alone on this machine.

    python benchmarks/speed_levers.py --data ../shared/data/cifar10 [--seconds 25]

The notebook's path (tensor-resident data, all four rotations, bf16 autocast for conv1..layer3 on a
CPU that supports it, fp32 for layer4 and fc) against one change at a time: fp32 throughout, bf16
for layer4 and fc too, channels-last memory, 256 source images per step, and torch.compile with
bf16 autocast over the whole model. Same model, optimizer and timing as benchmarks/speed.py.
Writes results/speed_levers.json.
"""
import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import ROOT, cpu_name, measure, nb, our_batches  # noqa: E402


def channels_last(batches):
    for x, y in batches:
        yield x.contiguous(memory_format=torch.channels_last), y


def autocast_whole(model, x):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return model(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cifar10"))
    parser.add_argument("--cache", default=str(ROOT / "data" / "cache"))
    parser.add_argument("--seconds", type=float, default=25.0, help="timed seconds per measurement")
    parser.add_argument("--out", default=str(ROOT / "results" / "speed_levers.json"))
    args = parser.parse_args()

    data = nb.load_class_folder(args.data, cache_dir=args.cache)
    cfg = nb.resolve_preset("real")["rotation"]
    precision = nb.resolve_precision("auto", torch.device("cpu"))
    levers = {  # name: (model transform, batches, precision, forward)
        "notebook path": (None, our_batches(data, "rotation", cfg), precision, None),
        "fp32 throughout": (None, our_batches(data, "rotation", cfg), "fp32", None),
        "bf16 for layer4 and fc too": (None, our_batches(data, "rotation", cfg), precision, autocast_whole),
        "channels-last memory": (lambda m: m.to(memory_format=torch.channels_last),
                                 channels_last(our_batches(data, "rotation", cfg)), precision, None),
        "256 source images per step": (None, our_batches(data, "rotation", {**cfg, "batch_size": 256}), precision, None),
        "torch.compile, bf16 over the whole model": (torch.compile, our_batches(data, "rotation", cfg), precision,
                                                     autocast_whole),
    }
    results = {}
    for name, (transform, batches, lever_precision, forward) in levers.items():
        torch.manual_seed(0)
        model = nb.build_resnet18(4)
        if transform is not None:
            model = transform(model)
        started = time.perf_counter()
        row = measure(model, "all", batches, lever_precision, args.seconds, forward)
        row["wall_seconds_with_warmup"] = time.perf_counter() - started
        results[name] = row
        print(f"{name:42s} {row['images_per_s']:7.0f} images/s", flush=True)
    base = results["notebook path"]["images_per_s"]
    for row in results.values():
        row["relative_to_notebook_path"] = row["images_per_s"] / base
    report = {"command": "python " + " ".join(sys.argv),
              "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__},
              "notebook_precision": precision, "results": results}
    nb.write_json(report, args.out)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

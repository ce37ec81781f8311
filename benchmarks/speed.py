"""Training speed, starter-style pipeline against the notebook's, side by side on one machine.

    python benchmarks/speed.py --data ../shared/data/cifar10 [--seconds 30]

Starter-style: a Dataset that turns each image into a PIL image, applies torchvision's RandomCrop,
RandomHorizontalFlip, ToTensor and Normalize, rotates it by one random multiple of 90 degrees, and a
DataLoader (batch 128, shuffled, 2 workers) feeding an fp32 ResNet18. Ours: the notebook's own
functions (tensor-resident data, batched augmentation, all four rotations per image, the forward
and precision the notebook picks for this device). Both train the same model with the same optimizer; only
training steps are timed, after a few warm-up steps. Writes results/benchmark.json.
"""
import argparse
import platform
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook_definitions import load_definitions  # noqa: E402

nb = load_definitions()
WARMUP_STEPS = 3


class StarterDataset(torch.utils.data.Dataset):
    """What the starter code does per image, in Python, in the DataLoader's workers."""

    def __init__(self, images_uint8, labels, mean, std, rotation):
        self.images = images_uint8.permute(0, 2, 3, 1).numpy()    # HWC, as CIFAR10.data holds it
        self.labels = labels.tolist()
        self.rotation = rotation
        self.transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(),
                                    T.ToTensor(), T.Normalize(mean.tolist(), std.tolist())])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.transform(Image.fromarray(self.images[i]))
        if not self.rotation:
            return x, self.labels[i]
        k = random.randrange(4)
        return torch.rot90(x, k, dims=(1, 2)), k


def starter_loader(data, task, generator=None):
    """The starter's DataLoader: batch 128, shuffled, 2 workers; one pass is one epoch."""
    dataset = StarterDataset(data.train_x, data.train_y, data.mean, data.std, task == "rotation")
    return torch.utils.data.DataLoader(dataset, batch_size=128, shuffle=True, num_workers=2,
                                       persistent_workers=True, generator=generator)


def starter_batches(data, task):
    loader = starter_loader(data, task)
    while True:
        yield from loader


def our_batches(data, task, cfg):
    generator = torch.Generator().manual_seed(0)
    while True:
        yield from nb.batches_for(task, cfg, data, generator)


def measure(model, scope, batches, precision, seconds, forward=None):
    """Training images per second over at least `seconds` of steps, after warm-up steps;
    `forward(model, x)` replaces the notebook's forward pass where given."""
    if forward is None:   # the notebook's own forward, in the memory layout it uses for this precision
        model = nb.memory_layout(model, precision)
        forward = lambda m, x: nb.forward(m, nb.memory_layout(x, precision), precision)
    nb.set_trainable(model, scope)
    nb.set_train_mode(model, scope)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01,
                                momentum=0.9, nesterov=True, weight_decay=5e-4)
    images, steps, started = 0, 0, None
    for x, y in batches:
        loss = F.cross_entropy(forward(model, x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
        if steps == WARMUP_STEPS:
            started = time.perf_counter()
        elif steps > WARMUP_STEPS:
            images += len(y)
            elapsed = time.perf_counter() - started
            if elapsed >= seconds:
                return {"images_per_s": images / elapsed, "images": images, "seconds": elapsed,
                        "steps": steps - WARMUP_STEPS, "batch_images": len(y)}


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cifar10"),
                        help="class-folder CIFAR-10 copy (train/<class>/*.png, test/<class>/*.png)")
    parser.add_argument("--seconds", type=float, default=30.0, help="timed seconds per measurement")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmark.json"))
    args = parser.parse_args()

    data = nb.load_class_folder(args.data)
    device = torch.device("cpu")
    cfg = nb.resolve_preset("real")
    precision = nb.run_precision({"precision": "auto"}, device)
    runs = {  # name: (task, scope, run kind of the notebook's preset)
        "rotation": ("rotation", "all", "rotation"),
        "layer4+fc": ("classes", "layer4+fc", "layer4"),
        "full": ("classes", "all", "full"),
    }
    results = {}
    for name, (task, scope, kind) in runs.items():
        num_outputs = 4 if task == "rotation" else len(data.classes)
        for pipeline in ("starter", "ours"):
            torch.manual_seed(0)
            model = nb.build_resnet18(num_outputs)
            if pipeline == "starter":
                row = measure(model, scope, starter_batches(data, task), "fp32", args.seconds)
            else:
                row = measure(model, scope, our_batches(data, task, cfg[kind]), precision, args.seconds)
            row["precision"] = "fp32" if pipeline == "starter" else precision
            results.setdefault(name, {})[pipeline] = row
            print(f"{name:10s} {pipeline:8s} {row['images_per_s']:7.0f} images/s "
                  f"({row['steps']} steps of {row['batch_images']} images, {row['precision']})", flush=True)
        results[name]["speed-up"] = results[name]["ours"]["images_per_s"] / results[name]["starter"]["images_per_s"]
        print(f"{name:10s} speed-up {results[name]['speed-up']:.2f}x", flush=True)

    report = {
        "command": "python " + " ".join(sys.argv),
        "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "python": platform.python_version()},
        "starter": "PIL transforms in a Dataset, DataLoader batch 128, 2 workers, one random rotation per image, fp32",
        "ours": "tensor-resident data, batched crop/flip, all four rotations per image (rotation), "
                "batch 128 source images, the notebook's forward for this device (here "
                f"{precision}: bf16 throughout, convolutions on 2x2 and 1x1 maps as matrix products, "
                "channels-last memory)" if precision == "cpu-bf16-fast" else f"the notebook's forward for this device ({precision})",
        "results": results,
    }
    nb.write_json(report, args.out)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

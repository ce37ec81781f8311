"""What each part of the notebook's CPU forward does to the rotation training speed, on this machine.

    python benchmarks/speed_levers.py --data ../shared/data/cifar10 [--seconds 25]

Starts from the stock path (tensor-resident data, all four rotations, bf16 autocast for conv1..layer3,
fp32 for layer4 and fc: `stock_forward`) and changes one thing at a time: fp32
throughout, bf16 for layer4 and fc too, channels-last memory, 256 source images per step,
torch.compile with bf16 over the whole model, and the convolutions whose input is 2x2 or 1x1
(layer3 after its first conv, all of layer4) computed as one dense matrix product each, alone and
with bf16 in layer4 and fc; then the notebook's path (its CPU forward: those matrix products,
bf16 throughout and channels-last memory), measured twice, first and last among the paths, to show
how far two measurements of one path drift apart; and, last, the starter-style pipeline of
benchmarks/speed.py, so that every path can be set against it within one run. Same model, optimizer
and timing as benchmarks/speed.py. Writes results/speed_levers.json.
"""
import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import ROOT, cpu_name, measure, nb, our_batches, starter_batches  # noqa: E402

STOCK = "stock path: bf16 up to layer3, fp32 layer4 and fc"
NOTEBOOK = "notebook path: matrix products on 2x2 and 1x1 maps, bf16 throughout, channels-last"


def channels_last(batches):
    for x, y in batches:
        yield x.contiguous(memory_format=torch.channels_last), y


def channels_last_model(model):
    return model.to(memory_format=torch.channels_last)


def stock_forward(model, x):
    """bf16 autocast up to layer3, then layer4 and fc in fp32."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = model.layer3(model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x)))))))
    return model.fc(torch.flatten(model.avgpool(model.layer4(h.float())), 1))


def autocast_whole(model, x):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return model(x)


def matrix_form_fp32_layer4(model, x):
    """The notebook's fast forward with layer4 and fc in fp32, as the stock path keeps them."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x))))))
        for block in model.layer3:
            h = nb.basic_block_small_maps(block, h)
    h = h.float()
    for block in model.layer4:
        h = nb.basic_block_small_maps(block, h)
    return model.fc(torch.flatten(model.avgpool(h), 1))


def matrix_form_bf16(model, x):
    return nb.forward(model, x, "cpu-bf16-fast")


def matrix_form_max_difference(seed=0):
    """Largest difference, in fp32, between the stock layer3/layer4 and their matrix form (outputs
    and parameter gradients), relative to the largest value."""
    torch.manual_seed(seed)
    model = nb.build_resnet18(4).train()
    blocks = (*model.layer3, *model.layer4)
    x = torch.randn(16, 128, 4, 4)

    def output_and_gradients(run_block):
        model.zero_grad()
        h = x
        for block in blocks:
            h = run_block(block, h)
        h.square().sum().backward()
        return h.detach(), torch.cat([p.grad.flatten() for block in blocks for p in block.parameters()])

    relative = lambda a, b: ((a - b).abs().max() / b.abs().max()).item()
    reference = output_and_gradients(lambda block, h: block(h))
    matrices = output_and_gradients(nb.basic_block_small_maps)
    return max(relative(m, r) for m, r in zip(matrices, reference))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cifar10"))
    parser.add_argument("--seconds", type=float, default=25.0, help="timed seconds per measurement")
    parser.add_argument("--out", default=str(ROOT / "results" / "speed_levers.json"))
    args = parser.parse_args()

    data = nb.load_class_folder(args.data)
    cfg = nb.resolve_preset("real")["rotation"]
    cpu = torch.device("cpu")
    fast = nb.run_precision({"precision": "auto"}, cpu)
    if fast != "cpu-bf16-fast":
        sys.exit(f"this CPU has no bf16 support (the notebook runs {fast!r} here): the paths compared are bf16 ones")
    batches = lambda **changes: our_batches(data, "rotation", {**cfg, **changes})
    paths = {  # name: (model transform, batches, precision, forward); None: the notebook's
        NOTEBOOK: (None, batches(), fast, None),
        STOCK: (None, batches(), "fp32", stock_forward),
        "fp32 throughout": (None, batches(), "fp32", None),
        "bf16 for layer4 and fc too": (None, batches(), "fp32", autocast_whole),
        "channels-last memory": (channels_last_model, channels_last(batches()), "fp32", stock_forward),
        "256 source images per step": (None, batches(batch_size=256), "fp32", stock_forward),
        "torch.compile, bf16 over the whole model": (torch.compile, batches(), "fp32", autocast_whole),
        "convs on 2x2 and 1x1 maps as matrix products": (None, batches(), "fp32", matrix_form_fp32_layer4),
        "matrix products, layer4 and fc in bf16": (None, batches(), "fp32", matrix_form_bf16),
        NOTEBOOK + ", measured again": (None, batches(), fast, None),
    }
    results = {}
    for name, (transform, path_batches, precision, forward) in paths.items():
        torch.manual_seed(0)
        model = nb.build_resnet18(4)
        if transform is not None:
            model = transform(model)
        started = time.perf_counter()
        row = measure(model, "all", path_batches, precision, args.seconds, forward)
        row["wall_seconds_with_warmup"] = time.perf_counter() - started
        results[name] = row
        print(f"{name:42s} {row['images_per_s']:7.0f} images/s", flush=True)
    torch.manual_seed(0)
    starter = measure(nb.build_resnet18(4), "all", starter_batches(data, "rotation"), "fp32", args.seconds)
    print(f"{'starter-style pipeline':42s} {starter['images_per_s']:7.0f} images/s", flush=True)
    base = results[STOCK]["images_per_s"]
    for row in results.values():
        row["relative_to_stock_path"] = row["images_per_s"] / base
        row["relative_to_starter"] = row["images_per_s"] / starter["images_per_s"]
    report = {"command": "python " + " ".join(sys.argv),
              "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__},
              "stock_path": STOCK, "notebook_path": NOTEBOOK, "results": results, "starter": starter,
              "matrix_form_max_relative_difference_fp32": matrix_form_max_difference()}
    nb.write_json(report, args.out)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

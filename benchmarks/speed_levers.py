"""Levers tried on the notebook's rotation training speed, each measured alone on this machine.

    python benchmarks/speed_levers.py --data ../shared/data/cifar10 [--seconds 25]

The notebook's path (tensor-resident data, all four rotations, bf16 autocast for conv1..layer3 on a
CPU that supports it, fp32 for layer4 and fc) against one change at a time: fp32 throughout, bf16
for layer4 and fc too, channels-last memory, 256 source images per step, and torch.compile with
bf16 autocast over the whole model, and the convolutions whose input is 2x2 or 1x1 (layer3 after its
first conv, all of layer4) computed as one dense matrix product each, alone and with bf16 and
channels-last memory; and, last, the starter-style pipeline of benchmarks/speed.py, so that the
levers can be set against it within one run. Same model, optimizer and timing as
benchmarks/speed.py. Writes results/speed_levers.json.
"""
import argparse
import functools
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import ROOT, cpu_name, measure, nb, our_batches, starter_batches  # noqa: E402


def channels_last(batches):
    for x, y in batches:
        yield x.contiguous(memory_format=torch.channels_last), y


def channels_last_model(model):
    return model.to(memory_format=torch.channels_last)


def autocast_whole(model, x):
    with torch.autocast("cpu", dtype=torch.bfloat16):
        return model(x)


@functools.cache
def tap_index(k, stride, pad, h, w):
    """For a k x k convolution on an h x w map: which kernel tap links output position p to input
    position q (k*k where none does), as an (outputs, inputs) index, and the output size."""
    ho, wo = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    index = torch.full((ho * wo, h * w), k * k, dtype=torch.long)
    for p in range(ho * wo):
        for q in range(h * w):
            ti, tj = q // w - (p // wo * stride - pad), q % w - (p % wo * stride - pad)
            if 0 <= ti < k and 0 <= tj < k:
                index[p, q] = ti * k + tj
    return index, ho, wo


def conv_as_matmul(conv, x):
    """`conv(x)` as one product with the dense (outputs x inputs) matrix the convolution applies
    to a small map. On a 1x1 or 2x2 map every output sees every input, so nothing is wasted on
    zero padding, and the product runs as one large GEMM instead of a convolution on tiny maps."""
    n, c, h, w = x.shape
    index, ho, wo = tap_index(conv.kernel_size[0], conv.stride[0], conv.padding[0], h, w)
    taps = conv.weight.flatten(2)
    taps = torch.cat([taps, taps.new_zeros(*taps.shape[:2], 1)], 2)      # + a zero tap
    matrix = taps[:, :, index].permute(0, 2, 1, 3).reshape(taps.shape[0] * ho * wo, c * h * w)
    return (x.reshape(n, -1) @ matrix.t()).view(n, -1, ho, wo)


def block_forward(block, x, max_side=2):
    """A torchvision BasicBlock, its convolutions on maps of at most max_side as matrix products."""
    conv = lambda layer, h: conv_as_matmul(layer, h) if h.shape[-1] <= max_side else layer(h)
    out = block.relu(block.bn1(conv(block.conv1, x)))
    out = block.bn2(conv(block.conv2, out))
    identity = x if block.downsample is None else block.downsample[1](conv(block.downsample[0], x))
    return block.relu(out + identity)


def dense_small_maps(model, x, bf16_layer4=False):
    """The notebook's forward (bf16 for conv1..layer3), convolutions on 2x2 and 1x1 maps as matrices."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = model.layer2(model.layer1(model.maxpool(model.relu(model.bn1(model.conv1(x))))))
        for block in model.layer3:
            h = block_forward(block, h)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_layer4):
        for block in model.layer4:
            h = block_forward(block, h.float() if not bf16_layer4 else h)
        return model.fc(torch.flatten(model.avgpool(h), 1)).float()


def dense_matches_convolution(seed=0):
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
    matrices = output_and_gradients(block_forward)
    return max(relative(m, r) for m, r in zip(matrices, reference))


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
    dense_bf16 = functools.partial(dense_small_maps, bf16_layer4=True)
    levers = {  # name: (model transform, batches, precision, forward)
        "notebook path": (None, our_batches(data, "rotation", cfg), precision, None),
        "fp32 throughout": (None, our_batches(data, "rotation", cfg), "fp32", None),
        "bf16 for layer4 and fc too": (None, our_batches(data, "rotation", cfg), precision, autocast_whole),
        "channels-last memory": (channels_last_model, channels_last(our_batches(data, "rotation", cfg)), precision,
                                 None),
        "256 source images per step": (None, our_batches(data, "rotation", {**cfg, "batch_size": 256}), precision, None),
        "torch.compile, bf16 over the whole model": (torch.compile, our_batches(data, "rotation", cfg), precision,
                                                     autocast_whole),
        "convs on 2x2 and 1x1 maps as matrix products": (None, our_batches(data, "rotation", cfg), precision,
                                                         dense_small_maps),
        "matrix products on 2x2 and 1x1 maps, layer4 and fc in bf16": (None, our_batches(data, "rotation", cfg), precision,
                                                                       dense_bf16),
        "matrix products on 2x2 and 1x1 maps, layer4 and fc in bf16, channels-last": (
            channels_last_model, channels_last(our_batches(data, "rotation", cfg)), precision, dense_bf16),
        # Measured again last: how far two measurements of one path drift apart in one run.
        "notebook path, measured again": (None, our_batches(data, "rotation", cfg), precision, None),
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
    torch.manual_seed(0)
    starter = measure(nb.build_resnet18(4), "all", starter_batches(data, "rotation"), "fp32", args.seconds)
    print(f"{'starter-style pipeline':42s} {starter['images_per_s']:7.0f} images/s", flush=True)
    base = results["notebook path"]["images_per_s"]
    for row in results.values():
        row["relative_to_notebook_path"] = row["images_per_s"] / base
    report = {"command": "python " + " ".join(sys.argv),
              "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__},
              "notebook_precision": precision, "results": results, "starter": starter,
              "matrix_form_max_relative_difference_fp32": dense_matches_convolution()}
    nb.write_json(report, args.out)
    print(f"written {args.out}")


if __name__ == "__main__":
    main()

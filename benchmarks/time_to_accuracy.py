"""Time to a fixed rotation accuracy: the starter-style recipe against the notebook's, in one run.

    python benchmarks/time_to_accuracy.py --data ../shared/data/cifar10 [--target 0.75] [--cap-minutes 30] [--repeats 2]

Images per second (benchmarks/speed.py) flatter a pipeline that shows each image in all four
rotations: what a student waits for is the time until the rotation network is good. Each repeat
trains two rotation networks from scratch, one after the other, and measures the rotation accuracy
on the whole test set (every image in all four rotations) after every epoch:

- starter: what a starter notebook does. A Dataset turns each image into a PIL image and applies
  RandomCrop(32, padding=4), RandomHorizontalFlip, ToTensor and Normalize, then rotates it by one
  random multiple of 90 degrees; a DataLoader (batch 128, shuffled, 2 workers) feeds an fp32
  ResNet18 trained with SGD (lr 0.01, momentum 0.9, weight decay 5e-4, no schedule). An epoch is
  one pass, 45,000 rotated images.
- ours: the notebook's Task 1 run (the `real` preset's rotation configuration: all four rotations
  of every image, batched augmentation, its warm-up and cosine schedule over its epochs, the
  forward and precision the notebook picks for this device). An epoch is 180,000 rotated images.

Both train on the 45,000 training images that the notebook trains on (its validation split held
out). The clock counts training steps only (evaluation is not timed) and stops at the end of the
first epoch whose test accuracy reaches --target; a run that has not reached it after
--cap-minutes of training (or, for ours, after its preset's epochs) is reported as "> cap". Every
repeat is reported. Writes results/time_to_accuracy.json after every race (`complete` turns true at
the end), so an interrupted benchmark keeps the races it finished.
"""
import argparse
import itertools
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import ROOT, cpu_name, nb, starter_loader  # noqa: E402

STARTER = dict(lr=0.01, momentum=0.9, weight_decay=5e-4, label_smoothing=0.0)   # batch 128: starter_loader


def starter_setup(model, data, seed):
    """The starter's optimizer (constant learning rate), its epochs of batches and its precision."""
    optimizer = torch.optim.SGD(model.parameters(), lr=STARTER["lr"], momentum=STARTER["momentum"],
                                weight_decay=STARTER["weight_decay"])
    constant = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    loader = starter_loader(data, "rotation", torch.Generator().manual_seed(seed))
    return optimizer, constant, lambda: iter(loader), "fp32", STARTER, None


def our_setup(model, data, seed, cfg, device):
    """The notebook's rotation run: its optimizer and schedule, batches and precision."""
    precision = nb.choose_precision(cfg["precision"], nb.device_properties(device))
    steps = len(nb.batch_starts(len(data.train_x), cfg["batch_size"]))
    optimizer, schedule = nb.make_optimizer(model, cfg, steps * cfg["epochs"], round(cfg["warmup_epochs"] * steps))
    generator = torch.Generator().manual_seed(nb.run_seed(seed, "rotation"))
    return optimizer, schedule, lambda: nb.batches_for("rotation", cfg, data, generator), precision, cfg, cfg["epochs"]


def race(pipeline, data, seed, target, cap_seconds, cfg, device, log=print):
    """Train one rotation network with `pipeline` until its test accuracy reaches `target`, the time
    cap passes or (ours) its schedule ends; the training seconds at each epoch's end and its accuracy."""
    torch.manual_seed(seed)
    model = nb.build_resnet18(4).to(device)
    setup = starter_setup(model, data, seed) if pipeline == "starter" else our_setup(model, data, seed, cfg, device)
    optimizer, schedule, epoch_batches, precision, step_cfg, max_epochs = setup
    model = nb.memory_layout(model, precision)
    nb.set_trainable(model, "all")
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    trained, history = 0.0, []
    for epoch in itertools.count(1):
        started = time.perf_counter()
        _, _, seen = nb.train_epoch(model, "all", epoch_batches(), nb.classification_step, optimizer, schedule,
                                    scaler, precision, step_cfg, progress_args=dict(desc=f"{pipeline} epoch {epoch}"))
        trained += time.perf_counter() - started
        accuracy = nb.evaluate(model, data, "rotation", 500, precision)["test_acc"]
        history.append({"epoch": epoch, "train_seconds": trained, "test_acc": accuracy, "images": seen})
        log(f"{pipeline:8s} seed {seed} epoch {epoch}: {trained / 60:5.1f} training minutes, rotation test accuracy {accuracy:.2%}")
        if accuracy >= target or trained >= cap_seconds or epoch == max_epochs:
            reached = accuracy >= target
            return {"reached": reached, "minutes": trained / 60 if reached else None, "epochs": epoch,
                    "precision": precision, "history": history}


def minutes_text(run, cap_minutes):
    return f"{run['minutes']:.1f}" if run["reached"] else f"> {cap_minutes:g} (not reached)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cifar10"),
                        help="class-folder CIFAR-10 copy (train/<class>/*.png, test/<class>/*.png)")
    parser.add_argument("--target", type=float, default=0.75, help="rotation test accuracy to reach (0-1)")
    parser.add_argument("--cap-minutes", type=float, default=30.0, help="training minutes before a run gives up")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--preset", default="real", help="the notebook preset whose rotation run is 'ours'")
    parser.add_argument("--out", default=str(ROOT / "results" / "time_to_accuracy.json"))
    args = parser.parse_args(argv)
    if not 0 < args.target < 1:
        parser.error(f"--target must be an accuracy between 0 and 1, got {args.target}")
    if args.cap_minutes <= 0 or args.repeats < 1:
        parser.error("--cap-minutes must be positive and --repeats at least 1")

    config = nb.resolve_preset(args.preset)
    data = nb.load_class_folder(args.data)
    data = data.hold_out(config["cifar_val_per_class"], seed=0)   # the notebook's 45,000 training images
    device = torch.device("cpu")
    started, repeats = time.perf_counter(), []
    report = {
        "command": "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__},
        "target": args.target, "cap_minutes": args.cap_minutes, "n_train": len(data.train_x), "n_test": len(data.test_x),
        "starter": "PIL transforms in a Dataset, DataLoader batch 128, 2 workers, one random rotation per image, fp32, "
                   "SGD lr 0.01 momentum 0.9 weight decay 5e-4, constant learning rate",
        "ours": f"the notebook's rotation run ({args.preset} preset: {config['rotation']['epochs']} epochs, all four "
                "rotations per image, warm-up and cosine schedule, the notebook's forward for this device)",
        "repeats_asked": args.repeats, "repeats": repeats, "complete": False,
    }
    for seed in range(args.repeats):
        repeat = {}
        repeats.append(repeat)
        for pipeline in ("starter", "ours"):
            repeat[pipeline] = race(pipeline, data, seed, args.target, 60 * args.cap_minutes, config["rotation"], device)
            # Written after every race, so that an interrupted benchmark keeps the races it finished.
            report["wall_minutes"] = (time.perf_counter() - started) / 60
            nb.write_json(report, args.out)
        print(" | ".join(f"{p}: {minutes_text(r, args.cap_minutes)} min" for p, r in repeat.items()), flush=True)
    report["complete"] = True
    nb.write_json(report, args.out)
    print(f"written {args.out}")
    return report


if __name__ == "__main__":
    main()

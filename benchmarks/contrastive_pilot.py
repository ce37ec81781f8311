"""Choosing section 14's pre-training learning rate on the validation split, for a fixed budget.

    python benchmarks/contrastive_pilot.py --data ../shared/data/cifar10 [--epochs 3] [--lrs 0.06 0.3 0.6]

For each method (SimCLR, Barlow Twins) and each learning rate, a short pre-training with the `real`
preset's configuration otherwise (batch, views, head; the warm-up and cosine schedule squeezed into
--epochs, so this ranks learning rates by how fast they learn early, not by where a full run ends):
the kNN monitor's validation accuracy after every epoch, and the images/s, go to
results/contrastive_pilot.json (added to the runs already there, so that each method can be piloted
in a session of its own). Only the validation split is looked at to choose; the test
accuracies the runs also record are not. The runs' checkpoints go to checkpoints/pilot/ (deleted
after each run: none of them is used again).
"""
import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import ROOT, cpu_name, nb  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CIFAR-10 class-folder copy (train/, test/)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lrs", type=float, nargs="+", default=[0.06, 0.25, 0.6])
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up epochs of the short runs")
    parser.add_argument("--methods", nargs="+", default=list(nb.CONTRASTIVE_METHODS))
    parser.add_argument("--out", default=str(ROOT / "results" / "contrastive_pilot.json"))
    args = parser.parse_args()
    config = nb.resolve_preset("real")
    data = nb.load_class_folder(args.data).hold_out(config["cifar_val_per_class"], seed=0)
    device = torch.device("cpu")
    started, rows = time.perf_counter(), {}
    for method in args.methods:
        for lr in args.lrs:
            cfg = {**config[method], "epochs": args.epochs, "lr": lr, "warmup_epochs": args.warmup}
            folder = ROOT / "checkpoints" / "pilot"
            objective = nb.ContrastiveObjective.of(method, config["contrastive"])
            run = nb.train_run(method, nb.ContrastiveNet(objective.head, seed=0), data, objective, "all",
                               cfg, device, folder, seed=0, retrain=True)
            shutil.rmtree(folder, ignore_errors=True)
            rows[f"{method} lr {lr:g}"] = {
                "method": method, "lr": lr, "epochs": args.epochs,
                "val_knn_by_epoch": [h["val_acc"] for h in run["history"]],
                "val_loss_by_epoch": [h["val_loss"] for h in run["history"]],
                "images_per_s": sum(h["images_per_s"] for h in run["history"]) / len(run["history"]),
                "train_minutes": run["train_seconds"] / 60}
            print(f"{method} lr {lr:g}: validation kNN by epoch "
                  f"{[round(100 * a, 1) for a in rows[f'{method} lr {lr:g}']['val_knn_by_epoch']]}")
    command = ("python benchmarks/contrastive_pilot.py --data " + args.data + f" --epochs {args.epochs} --warmup "
               f"{args.warmup:g} --methods " + " ".join(args.methods) + " --lrs " + " ".join(f"{lr:g}" for lr in args.lrs))
    out = Path(args.out)
    earlier = json.loads(out.read_text()) if out.is_file() else {"sessions": [], "runs": {}}
    session = {"command": command, "config": {m: config[m] for m in (*args.methods, "contrastive")},
               "n_train": len(data.train_x), "n_val": len(data.val_x),
               "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__},
               "wall_minutes": (time.perf_counter() - started) / 60, "runs": sorted(rows)}
    nb.write_json({"sessions": [*earlier["sessions"], session], "runs": {**earlier["runs"], **rows}}, out)


if __name__ == "__main__":
    main()

"""Does the notebook's bf16 arithmetic cost rotation accuracy? Its Task 1 run again in fp32.

    python benchmarks/precision_check.py --data ../shared/data/cifar10

Trains the `real` preset's rotation run with precision='fp32' (same seed, data order, schedule and
code as the notebook's Task 1, which ran in bf16 with the forward its configuration names) and
writes both runs' per-epoch test accuracy, loss and speed to results/precision_check.json. The
run's checkpoints go to checkpoints/fp32/rotation.*; an interrupted run resumes, a finished one is
loaded. The CPU's fast forward does not apply in fp32.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import ROOT, cpu_name, nb  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CIFAR-10 class-folder copy (train/, test/)")
    parser.add_argument("--reference", default=str(ROOT / "results" / "rotation.json"),
                        help="the notebook's Task 1 result to compare with")
    parser.add_argument("--out", default=str(ROOT / "results" / "precision_check.json"))
    args = parser.parse_args()
    reference = json.loads(Path(args.reference).read_text())

    cfg = {**reference["config"], "precision": "fp32"}
    data = nb.load_class_folder(args.data)
    device = torch.device("cpu")
    torch.manual_seed(reference["seed"])   # the same initial weights as Task 1
    model = nb.build_resnet18(4)
    started = time.perf_counter()
    # The run name feeds the data-order seed; keep Task 1's so both runs see the same batches.
    run = nb.train_run("rotation", model, data, task="rotation", scope="all", cfg=cfg,
                       device=device, checkpoint_dir=ROOT / "checkpoints" / "fp32", seed=reference["seed"])
    rows = {}
    for label, r in ((f"notebook ({reference['precision']})", reference), ("fp32", run)):
        rows[label] = {
            "precision": r["precision"],
            "test_acc_by_epoch": [h["test_acc"] for h in r["history"]],
            "test_loss_by_epoch": [h["test_loss"] for h in r["history"]],
            "final_test_acc": r["final"]["test_acc"],
            "best": r["best"],
            "mean_images_per_s": sum(h["images_per_s"] for h in r["history"]) / len(r["history"]),
            "train_minutes": r["train_seconds"] / 60,
        }
    nb.write_json({
        "command": "python benchmarks/precision_check.py --data " + args.data,
        "config": cfg, "n_train": run["n_train"], "n_test": run["n_test"],
        "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__},
        "wall_minutes": (time.perf_counter() - started) / 60,
        "runs": rows,
    }, args.out)
    for label, row in rows.items():
        print(f"{label:32s} final {row['final_test_acc']:.2%}  {row['mean_images_per_s']:.0f} img/s")


if __name__ == "__main__":
    main()

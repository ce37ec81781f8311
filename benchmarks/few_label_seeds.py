"""How much do the few-label results of section 10 move with the seed?

    python benchmarks/few_label_seeds.py --data ../shared/data/cifar10 [--seeds 1 2] [--per-class 20 100 400]

Section 10 of the notebook runs one seed (SEED=0). This script repeats its smallest counts with
other seeds, each seed drawing another balanced subset, another initialisation of the new head (and
of the random trunk) and another data order, with the notebook's own functions, configuration and
budget rule, and the same rotation checkpoint (pre-trained once, on all training images). With the
notebook's seed-0 points from results/few_labels.json, it writes every seed's test accuracy and
their mean and range to results/few_label_seeds.json. Checkpoints go to checkpoints/few_seeds/; an
interrupted run resumes.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook_definitions import load_definitions  # noqa: E402

nb = load_definitions()
SETUPS = {"layer4_from_rotation": ("layer4", "layer4+fc", "rotation"),
          "full_from_rotation": ("full", "all", "rotation"),
          "full_from_random": ("full", "all", "random")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="CIFAR-10 class-folder copy (train/, test/)")
    parser.add_argument("--cache", default=str(ROOT / "data" / "cache"))
    parser.add_argument("--rotation-checkpoint", default=str(ROOT / "checkpoints" / "rotation.best.pt"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--per-class", type=int, nargs="+", default=[20, 100, 400])
    parser.add_argument("--notebook-results", default=str(ROOT / "results" / "few_labels.json"))
    parser.add_argument("--out", default=str(ROOT / "results" / "few_label_seeds.json"))
    args = parser.parse_args()
    if 0 in args.seeds:
        parser.error("seed 0 is the notebook's own run; choose other seeds")
    notebook = json.loads(Path(args.notebook_results).read_text())
    config = nb.resolve_preset("real")
    min_images = config["few_labels"]["min_epoch_images"]
    data = nb.load_data(args.data, None, args.cache, 10)
    device = torch.device("cpu")
    started = time.perf_counter()

    points = {setup: [] for setup in SETUPS}
    for per_class in args.per_class:
        for setup, (kind, scope, init) in SETUPS.items():
            seed0 = next(p for p in notebook["curves"][setup] if p["per_class"] == per_class)
            accs = {0: seed0["final_acc"]}
            for seed in args.seeds:
                labelled = nb.balanced_subset(data.train_y, per_class, len(data.classes), seed=seed)
                subset = data.select(nb.repeat_to(labelled, min_images))
                model = nb.make_classifier(init, len(data.classes), args.rotation_checkpoint, seed=seed)
                run = nb.train_run(f"few{per_class}_{setup}_seed{seed}", model, subset, task="classes",
                                   scope=scope, cfg=config[kind], device=device,
                                   checkpoint_dir=ROOT / "checkpoints" / "few_seeds", seed=seed)
                accs[seed] = run["final"]["test_acc"]
            values = list(accs.values())
            points[setup].append({"per_class": per_class, "final_acc_by_seed": accs,
                                  "mean": sum(values) / len(values), "min": min(values), "max": max(values)})
            print(f"{per_class:4d} per class {setup:22s} " + " ".join(f"{100 * a:.1f}" for a in values))
    nb.write_json({"command": "python benchmarks/few_label_seeds.py --data " + args.data
                              + f" --seeds {' '.join(map(str, args.seeds))} --per-class "
                              + " ".join(map(str, args.per_class)),
                   "seeds": [0] + args.seeds, "rule": notebook["rule"], "points": points,
                   "wall_minutes": (time.perf_counter() - started) / 60}, args.out)


if __name__ == "__main__":
    main()

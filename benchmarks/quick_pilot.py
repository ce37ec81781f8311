"""The pilot runs behind the quick preset's recipe: one run per choice, seed 0, judged on the
validation split (the test set is recorded, never used to choose).

    python benchmarks/quick_pilot.py --data ../shared/data/cifar10 SPEC_JSON [SPEC_JSON ...]

Each SPEC_JSON names a run and what differs from the notebook's RUN_DEFAULTS, e.g.
    '{"name": "rot_flip_4ep", "task": "rotation", "cfg": {"epochs": 4, "augment": "flip"}}'
    '{"name": "full_rot_4", "task": "classes", "init": "rotation", "scope": "all",
      "trunk": "checkpoints-pilot/rot_flip_4ep.best.pt", "cfg": {"epochs": 4, "batch_size": 512, "lr": 0.2}}'
and optionally "low": N to train the first N epochs on images downscaled to "size" pixels (16 by
default; progressive resizing, tried and not taken, so the notebook has no such field). Every run
goes through the notebook's train_run (its loop, evaluation after every epoch, checkpoints in
--checkpoints); afterwards the last epoch's model is measured once more with test-time flips
(mirror_averaged). Each run is added to --out's list of runs (one with the same name replaced)
as soon as it ends.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import ROOT, cpu_name, nb  # noqa: E402


def with_low_resolution_epochs(batches_for, state):
    """batches_for, with the batches of the first state['low'] epochs of a run downscaled."""
    def low_resolution_batches(task, cfg, data, generator):
        epoch, state["epoch"] = state["epoch"], state["epoch"] + 1
        for x, y in batches_for(task, cfg, data, generator):
            if epoch < state["low"]:
                x = F.interpolate(x, size=state["size"], mode="bilinear", antialias=True, align_corners=False)
            yield x, y
    return low_resolution_batches


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cifar10"))
    parser.add_argument("--checkpoints", default=str(ROOT / "checkpoints-pilot"))
    parser.add_argument("--out", default=str(ROOT / "results" / "quick_pilot.json"))
    parser.add_argument("specs", nargs="+")
    args = parser.parse_args(argv)
    device = torch.device("cpu")
    data = nb.load_class_folder(args.data).hold_out(nb.PRESETS["real"]["cifar_val_per_class"], seed=0)
    state = {"epoch": 0, "low": 0, "size": 16}
    nb.batches_for = with_low_resolution_epochs(nb.batches_for, state)
    for spec in map(json.loads, args.specs):
        cfg = {**nb.RUN_DEFAULTS, **spec.get("cfg", {})}
        state.update(epoch=0, low=spec.get("low", 0), size=spec.get("size", 16))
        if spec["task"] == "rotation":
            torch.manual_seed(0)
            model, task, scope = nb.build_resnet18(4), "rotation", "all"
        else:
            model = nb.make_classifier(spec["init"], 10, spec.get("trunk"), seed=0)
            task, scope = "classes", spec["scope"]
        started = time.perf_counter()
        run = nb.train_run(spec["name"], model, data, task, scope, cfg, device, Path(args.checkpoints), seed=0,
                           retrain=True, log=lambda line: print(line, flush=True))
        mode = nb.run_precision(cfg, device)
        flipped = {split: nb.evaluate(model, data, task, cfg["eval_batch_size"], mode, split, flip=True)[f"{split}_acc"]
                   for split in ("val", "test")}
        record = {"spec": spec, "machine": {"cpu": cpu_name(), "threads": torch.get_num_threads()},
                  "wall_s": time.perf_counter() - started, "train_s": run["train_seconds"],
                  "val_curve": [h["val_acc"] for h in run["history"]], "test_curve": [h["test_acc"] for h in run["history"]],
                  "val_with_flips": flipped["val"], "test_with_flips": flipped["test"]}
        out = Path(args.out)
        runs = json.loads(out.read_text())["runs"] if out.is_file() else []
        runs = [r for r in runs if r["spec"]["name"] != spec["name"]] + [record]
        nb.write_json({"command": "python benchmarks/quick_pilot.py --data DATA SPEC_JSON ...", "seed": 0, "runs": runs}, out)
        print(f"{spec['name']}: validation {record['val_curve'][-1]:.2%}, with flips {flipped['val']:.2%}", flush=True)


if __name__ == "__main__":
    main()

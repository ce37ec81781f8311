"""Part I of the notebook from a fresh start, timed: wall time to each expected accuracy and the
accuracies at the end, for the quick and the real preset.

    python benchmarks/presets.py --data ../shared/data/cifar10 --preset quick --seeds 0 1 2
    python benchmarks/presets.py --data ../shared/data/cifar10 --preset real --seeds 0

Each (preset, seed) executes A4.ipynb headless with papermill, as the README's command does, into
an empty scratch folder (OUT_DIR: nothing is loaded from committed results, every run trains), with
`SEED` set, one seed and Part I alone (`OVERRIDES = {"seeds": 1, "parts": ["I"]}`; the quick preset
asks for exactly that). The data cell's own time (decoding the PNG files) is reported beside the rest.

From papermill's record of each cell's start and end, and from the runs' results files:
- wall_minutes: from the start of the first cell to the end of the summary's table (the cell that
  prints it), how long a user waits for the results of Tasks 1-3;
- per target (the accuracies the assignment expects, as the notebook's summary writes them into
  results/summary.json: rotation 78%, layer4+fc from rotation 60%, whole network from rotation 80%):
  the run's test accuracy at its last epoch, whether it meets the target, the first measured epoch
  that did and the training minutes up to it (the quick preset measures the last epoch alone), and
  the wall time from the first cell to the end of the cell that finished the run (when a reader
  sees the number);
- whether rotation beats random weights in Task 2 and in Task 3.
Writes results/presets.json after every execution, keeping what it holds for other (preset, seed).
"""
import argparse
import datetime
import json
import socket
import sys
import tempfile
import time
from pathlib import Path

import papermill
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import ROOT, cpu_name  # noqa: E402

NOTEBOOK = ROOT / "A4.ipynb"
RUN_CELLS = {"rotation": 'experiment.run("rotation"', "layer4": "layer4_runs = classification_runs(",
             "full": "full_runs = classification_runs("}
RUNS = ("rotation", "layer4_from_rotation", "layer4_from_random", "full_from_rotation", "full_from_random")
SUMMARY_CELL = 'results_dir / "summary.json"'   # the cell that writes the summary and prints its table


def seconds(stamp):
    return datetime.datetime.fromisoformat(stamp).timestamp()


def cell_times(notebook):
    """(start, end) in seconds of every code cell papermill ran, keyed by the cell's index."""
    times = {}
    for i, cell in enumerate(notebook["cells"]):
        record = cell.get("metadata", {}).get("papermill", {})
        if cell["cell_type"] == "code" and record.get("start_time") and record.get("end_time"):
            times[i] = (seconds(record["start_time"]), seconds(record["end_time"]))
    return times


def cell_index(notebook, text):
    hits = [i for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code" and text in "".join(c["source"])]
    if len(hits) != 1:
        raise ValueError(f"expected one code cell holding {text!r}, found {len(hits)}")
    return hits[0]


def expected_accuracies(results_dir):
    """The accuracies the assignment expects, as the notebook's summary wrote them beside its runs
    (results/summary.json, in percent): {run name: fraction} of the runs that have one."""
    rows = json.loads((results_dir / "summary.json").read_text())["rows"]
    return {row["name"]: row["expected"] / 100 for row in rows if row["expected"] is not None}


def measure(notebook, results_dir):
    """The figures of one executed notebook (see the module's docstring)."""
    times = cell_times(notebook)
    first = min(start for start, _ in times.values())
    wall_at_end = lambda text: (times[cell_index(notebook, text)][1] - first) / 60
    data_cell = cell_index(notebook, "data = load_data(")
    runs = {name: json.loads((results_dir / f"{name}.json").read_text())
            for name in RUNS}
    targets = {}
    for name, target in expected_accuracies(results_dir).items():
        history = runs[name]["history"]
        met = [h for h in history if h.get("test_acc", 0) >= target]   # eval_every_epoch False: the last alone
        targets[name] = {
            "target": target, "final_test_acc": history[-1]["test_acc"], "met": history[-1]["test_acc"] >= target,
            "first_epoch_at_target": met[0]["epoch"] if met else None,
            "train_minutes_to_target": (sum(h["train_seconds"] for h in history[:met[0]["epoch"]]) / 60) if met else None,
            "wall_minutes_to_run_end": wall_at_end(RUN_CELLS[name.split("_")[0]]),
            "epochs": len(history), "measured_epochs": sum("test_acc" in h for h in history),
            "eval_flip": runs[name]["config"].get("eval_flip", False)}   # absent: the real preset
    final = {name: run["history"][-1]["test_acc"] for name, run in runs.items()}
    beats_random = {task: final[f"{kind}_from_rotation"] > final[f"{kind}_from_random"]
                    for task, kind in (("task2", "layer4"), ("task3", "full"))}
    return {"wall_minutes": wall_at_end(SUMMARY_CELL),
            "data_minutes": (times[data_cell][1] - times[data_cell][0]) / 60,
            "train_minutes": sum(run["train_seconds"] for run in runs.values()) / 60,
            "final_test_acc": final, "targets": targets,
            "rotation_beats_random": beats_random,
            "all_met": all(t["met"] for t in targets.values()) and all(beats_random.values())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "cifar10"))
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", default=str(ROOT / "results" / "presets.json"))
    parser.add_argument("--keep", default=None, help="keep each execution's folder under this one")
    args = parser.parse_args(argv)
    out = Path(args.out)
    report = json.loads(out.read_text()) if out.is_file() else {"executions": []}
    report["machine"] = {"cpu": cpu_name(), "threads": torch.get_num_threads(), "torch": torch.__version__,
                         "host": socket.gethostname()}
    for seed in args.seeds:
        folder = Path(tempfile.mkdtemp(prefix=f"{args.preset}-seed{seed}-", dir=args.keep))
        parameters = dict(DATA_DIR=str(Path(args.data).resolve()), OUT_DIR=str(folder), PRESET=args.preset, SEED=seed,
                          OVERRIDES={"seeds": 1, "parts": ["I"]})
        started = time.perf_counter()
        executed = papermill.execute_notebook(str(NOTEBOOK), str(folder / "executed.ipynb"), parameters=parameters,
                                              cwd=str(folder), kernel_name="python3", progress_bar=False)
        figures = measure(executed, folder / "results")
        execution = {"preset": args.preset, "seed": seed, "date": datetime.date.today().isoformat(),
                     "machine": report["machine"], "papermill_minutes": (time.perf_counter() - started) / 60,
                     "command": "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
                     **figures}
        report["executions"] = [e for e in report["executions"] if (e["preset"], e["seed"]) != (args.preset, seed)]
        report["executions"].append(execution)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"{args.preset} seed {seed}: {figures['wall_minutes']:.1f} minutes to the summary; "
              + ", ".join(f"{n} {t['final_test_acc']:.2%}" for n, t in figures["targets"].items())
              + f"; all targets met: {figures['all_met']}", flush=True)
    return report


if __name__ == "__main__":
    main()

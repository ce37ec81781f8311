"""benchmarks/presets.py's reading of an executed notebook: the wall time from the first cell to the
summary's cell, and each target from the runs' histories (met or not, first epoch, minutes to it)."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import presets  # noqa: E402


def cell(source, start, end):
    return {"cell_type": "code", "source": source,
            "metadata": {"papermill": {"start_time": f"2026-12-03T10:{start}+00:00", "end_time": f"2026-12-03T10:{end}+00:00"}}}


def history(accuracies, seconds=60.0):
    return [{"epoch": i + 1, "test_acc": a, "train_seconds": seconds} for i, a in enumerate(accuracies)]


@pytest.fixture
def executed(tmp_path):
    notebook = {"cells": [
        cell("import torch", "00:00", "00:05"),
        cell("data = load_data(DATA_DIR)", "00:05", "00:08"),
        {"cell_type": "markdown", "source": "## 6. Task 1", "metadata": {}},
        cell('rotation_run = experiment.run("rotation", model)', "00:08", "06:00"),
        cell("layer4_runs = classification_runs(experiment)", "06:00", "07:00"),
        cell("full_runs = classification_runs(experiment)", "07:00", "10:00"),
        cell('write_json(summary, results_dir / "summary.json")', "10:00", "10:30"),
        cell("plot_few_labels()", "10:30", "20:00"),          # after the summary: not counted
    ]}
    runs = {"rotation": [0.70, 0.785, 0.79], "layer4_from_rotation": [0.55, 0.59],
            "layer4_from_random": [0.40, 0.50], "full_from_rotation": [0.70, 0.81, 0.79],
            "full_from_random": [0.60, 0.75, 0.78]}
    results = tmp_path / "results"
    results.mkdir()
    expected = {"rotation": 78, "layer4_from_rotation": 60, "full_from_rotation": 80}
    (results / "summary.json").write_text(json.dumps({"rows": [{"name": name, "expected": expected.get(name)}
                                                                for name in runs]}))
    for name, accuracies in runs.items():
        (results / f"{name}.json").write_text(json.dumps({"history": history(accuracies), "config": {"eval_flip": True},
                                                          "train_seconds": 60.0 * len(accuracies)}))
    return notebook, results


def test_the_wall_time_runs_from_the_first_cell_to_the_end_of_the_summary(executed):
    figures = presets.measure(*executed)
    assert figures["wall_minutes"] == pytest.approx(10.5)
    assert figures["data_minutes"] == pytest.approx(3 / 60)
    assert figures["train_minutes"] == pytest.approx(13)


def test_a_target_counts_at_the_last_epoch_and_records_when_it_was_first_reached(executed):
    targets = presets.measure(*executed)["targets"]
    rotation, layer4, full = targets["rotation"], targets["layer4_from_rotation"], targets["full_from_rotation"]
    assert rotation["met"] and rotation["first_epoch_at_target"] == 2 and rotation["train_minutes_to_target"] == pytest.approx(2)
    assert rotation["wall_minutes_to_run_end"] == pytest.approx(6)
    assert not layer4["met"] and layer4["first_epoch_at_target"] is None
    # Reached at epoch 2 but below at the last epoch: not met, and the epoch it was passed is still recorded.
    assert not full["met"] and full["first_epoch_at_target"] == 2 and full["final_test_acc"] == 0.79


def test_all_met_needs_every_target_and_rotation_ahead_of_random_in_both_tasks(executed):
    notebook, results = executed
    figures = presets.measure(notebook, results)
    assert figures["rotation_beats_random"] == {"task2": True, "task3": True} and not figures["all_met"]
    for name, accuracies in {"layer4_from_rotation": [0.61], "full_from_rotation": [0.81]}.items():
        (results / f"{name}.json").write_text(json.dumps({"history": history(accuracies), "config": {}, "train_seconds": 60.0}))
    assert presets.measure(notebook, results)["all_met"]
    (results / "full_from_random.json").write_text(json.dumps({"history": history([0.82]), "config": {}, "train_seconds": 60.0}))
    assert not presets.measure(notebook, results)["all_met"]


def test_a_run_measured_after_its_last_epoch_alone_reaches_its_target_there(executed):
    notebook, results = executed
    measured_last = [{"epoch": 1, "train_seconds": 60.0}, {"epoch": 2, "test_acc": 0.61, "train_seconds": 60.0}]
    (results / "layer4_from_rotation.json").write_text(json.dumps({"history": measured_last, "config": {}, "train_seconds": 120.0}))
    layer4 = presets.measure(notebook, results)["targets"]["layer4_from_rotation"]
    assert layer4["met"] and layer4["first_epoch_at_target"] == 2 and layer4["measured_epochs"] == 1
    assert layer4["train_minutes_to_target"] == pytest.approx(2)

"""benchmarks/time_to_accuracy.py on a tiny synthetic class folder: when each pipeline stops, and
what it reports (every repeat, "> cap" where the target was not reached)."""
import json
import sys
from pathlib import Path

import pytest

from conftest import write_class_folder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import time_to_accuracy  # noqa: E402


@pytest.fixture
def tiny_cifar(tmp_path):
    write_class_folder(tmp_path / "cifar", classes=[f"class{i}" for i in range(10)], n_train=4, n_test=2)
    return tmp_path


def run(folder, *options):
    return time_to_accuracy.main(["--data", str(folder / "cifar"), "--preset", "smoke",
                                  "--out", str(folder / "tta.json"), *options])


def test_a_reachable_target_stops_both_pipelines_after_their_first_epoch(tiny_cifar):
    report = run(tiny_cifar, "--target", "0.01", "--repeats", "2")
    assert len(report["repeats"]) == 2                          # every repeat, not the best one
    for repeat in report["repeats"]:
        for pipeline in ("starter", "ours"):
            assert repeat[pipeline]["reached"] and repeat[pipeline]["epochs"] == 1
            assert repeat[pipeline]["minutes"] == pytest.approx(repeat[pipeline]["history"][0]["train_seconds"] / 60)
        assert repeat["starter"]["precision"] == "fp32"
        # The notebook's validation split is held out: 2 of each class's 4 images are left to train on,
        # one random rotation of each per starter epoch, all four per epoch of ours.
        assert repeat["starter"]["history"][0]["images"] == 20 and repeat["ours"]["history"][0]["images"] == 80
    assert report["n_train"] == 20 and json.loads((tiny_cifar / "tta.json").read_text())["target"] == 0.01


def test_an_unreached_target_is_reported_past_the_cap(tiny_cifar):
    report = run(tiny_cifar, "--target", "0.99", "--cap-minutes", "0.0001", "--repeats", "1")
    for pipeline in ("starter", "ours"):
        result = report["repeats"][0][pipeline]
        assert not result["reached"] and result["minutes"] is None and result["epochs"] == 1   # past the cap after one epoch
        assert time_to_accuracy.minutes_text(result, 0.0001) == "> 0.0001 (not reached)"


def test_ours_ends_with_its_schedule_however_long_the_cap(nb, tiny_cifar):
    data = nb.load_class_folder(tiny_cifar / "cifar").hold_out(2)
    cfg = nb.resolve_preset("smoke")["rotation"]
    ours = time_to_accuracy.race("ours", data, 0, 0.99, 3600, cfg, nb.torch.device("cpu"), log=lambda line: None)
    assert not ours["reached"] and ours["epochs"] == cfg["epochs"] == 2
    assert [r["epoch"] for r in ours["history"]] == [1, 2]
    assert ours["history"][1]["train_seconds"] > ours["history"][0]["train_seconds"]     # the clock adds up


@pytest.mark.parametrize("options, message", [(["--target", "75"], "--target must be an accuracy"),
                                              (["--repeats", "0"], "--repeats at least 1")])
def test_bad_options_are_refused_with_a_clear_message(tiny_cifar, capsys, options, message):
    with pytest.raises(SystemExit):
        run(tiny_cifar, *options)
    assert message in capsys.readouterr().err


def test_an_interrupted_benchmark_keeps_the_races_it_finished(tiny_cifar, monkeypatch):
    real_race, calls = time_to_accuracy.race, []

    def race_then_interrupt(pipeline, *args, **kwargs):
        calls.append(pipeline)
        if len(calls) == 3:                                     # the second repeat's starter race
            raise KeyboardInterrupt
        return real_race(pipeline, *args, **kwargs)

    monkeypatch.setattr(time_to_accuracy, "race", race_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run(tiny_cifar, "--target", "0.01", "--repeats", "2")
    saved = json.loads((tiny_cifar / "tta.json").read_text())
    assert not saved["complete"] and saved["repeats_asked"] == 2
    assert [set(repeat) for repeat in saved["repeats"]] == [{"starter", "ours"}]   # the first repeat, whole
    report = run(tiny_cifar, "--target", "0.01", "--repeats", "1")
    assert report["complete"] and json.loads((tiny_cifar / "tta.json").read_text())["complete"]

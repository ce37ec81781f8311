"""The training loop: schedule, resume, loading finished runs, NaN, atomic saves, parameters."""
import json
import math

import pytest
import torch

from conftest import interrupt_in_second_epoch, refuse_training, tiny_config, tiny_data

CPU = torch.device("cpu")
TIMING = ("train_seconds", "images_per_s")


def quiet(*args):
    pass


def test_lr_factor_warms_up_then_decays_to_zero(nb):
    factors = [nb.lr_factor(s, 100, 10) for s in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert factors[10] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:]))
    assert factors[-1] < 0.001


def test_optimizer_really_follows_the_schedule(nb):
    # Plain SGD (no momentum, no decay) moves a weight by exactly lr * grad; the lr used at each
    # step must be the configured lr times the schedule's factor, not a value of the scheduler's own.
    model = torch.nn.Linear(1, 1, bias=False, dtype=torch.float64)
    cfg = {**nb.RUN_DEFAULTS, "lr": 0.3, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}
    optimizer, schedule = nb.make_optimizer(model, cfg, total_steps=20, warmup_steps=5)
    for step in range(20):
        expected_lr = 0.3 * nb.lr_factor(step, 20, 5)
        assert optimizer.param_groups[0]["lr"] == pytest.approx(expected_lr)
        before = model.weight.item()
        optimizer.zero_grad()
        model(torch.ones(1, 1, dtype=torch.float64)).sum().backward()     # gradient 1
        optimizer.step()
        schedule.step()
        assert before - model.weight.item() == pytest.approx(expected_lr, rel=1e-12)


def test_run_history_records_the_scheduled_learning_rate(nb, tmp_path):
    data = tiny_data(nb)
    cfg = tiny_config(nb, epochs=2, lr=0.05)
    run = nb.train_run("r", nb.build_resnet18(3), data, "classes", "all", cfg, CPU, tmp_path, log=quiet)
    steps = len(nb.batch_starts(len(data.train_x), cfg["batch_size"]))
    assert run["history"][0]["lr_end"] == pytest.approx(0.05 * nb.lr_factor(steps, 2 * steps, steps))
    assert run["history"][1]["lr_end"] == pytest.approx(0.0, abs=1e-12)


def colour_coded_data(nb, n_train=96, n_test=48, seed=0):
    """Three classes that differ in one thing only: which colour channel is bright."""
    g = torch.Generator().manual_seed(seed)

    def split(n):
        labels = torch.arange(n) % 3
        images = torch.randint(0, 90, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
        images[torch.arange(n), labels] += 160
        return images, labels

    (train_x, train_y), (test_x, test_y) = split(n_train), split(n_test)
    return nb.ImageData(train_x, train_y, test_x, test_y, ["red", "green", "blue"], *nb.channel_stats(train_x))


def test_the_loop_learns_a_task_it_can_solve_in_a_few_steps(nb, tmp_path):
    torch.manual_seed(0)
    # 18 steps; a small learning rate, so that BatchNorm's running statistics keep up with the weights
    cfg = tiny_config(nb, epochs=3, batch_size=16, lr=0.01)
    run = nb.train_run("colours", nb.build_resnet18(3), colour_coded_data(nb), "classes", "all", cfg, CPU,
                       tmp_path, log=quiet)
    first, last = run["history"][0], run["history"][-1]
    assert last["train_loss"] < first["train_loss"] / 2
    assert last["test_acc"] >= 0.95, "a colour per class, and the network did not learn it"


def strip_timing(history):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in history]


def rotation_run(nb, checkpoint_dir, **kwargs):
    torch.manual_seed(0)
    return nb.train_run("rot", nb.build_resnet18(4), tiny_data(nb), "rotation", "all",
                        tiny_config(nb, epochs=3), CPU, checkpoint_dir,
                        log=quiet, **kwargs)


def test_interrupted_run_resumes_and_ends_like_an_uninterrupted_one(nb, tmp_path, monkeypatch):
    straight = rotation_run(nb, tmp_path / "straight")
    after_straight = torch.rand(4)       # the global generator, as the run left it

    interrupt_in_second_epoch(nb, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        rotation_run(nb, tmp_path / "resumed")
    state = torch.load(tmp_path / "resumed" / "rot.state.pt", weights_only=True)
    assert state["epoch"] == 1
    monkeypatch.undo()

    logged = []
    torch.manual_seed(123)     # a new process would not hold the interrupted one's random state
    resumed = nb.train_run("rot", nb.build_resnet18(4), tiny_data(nb), "rotation", "all",
                           tiny_config(nb, epochs=3), CPU,
                           tmp_path / "resumed", log=logged.append)
    assert any("resuming after epoch 1" in line for line in logged)
    assert len(resumed["history"]) == 3
    for a, b in zip(strip_timing(straight["history"]), strip_timing(resumed["history"])):
        assert a.keys() == b.keys()
        for key in a:   # the device and precision are strings: equal; the figures: close
            expected = b[key] if isinstance(b[key], str) else pytest.approx(b[key], rel=1e-5, abs=1e-6)
            assert a[key] == expected, key
    assert resumed["best"]["epoch"] == straight["best"]["epoch"]
    assert torch.equal(torch.rand(4), after_straight), "resume did not restore the global random generator"


def test_finished_run_is_loaded_not_retrained(nb, tmp_path, monkeypatch):
    first = rotation_run(nb, tmp_path)

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(nb, "evaluate", no_training)
    again = rotation_run(nb, tmp_path)
    assert again["loaded"] and again["history"] == first["history"]
    with pytest.raises(AssertionError, match="trained again"):
        rotation_run(nb, tmp_path, retrain=True)


def test_changed_configuration_is_not_resumed_silently(nb, tmp_path):
    rotation_run(nb, tmp_path)
    with pytest.raises(ValueError, match="different configuration.*config.*RETRAIN"):
        nb.train_run("rot", nb.build_resnet18(4), tiny_data(nb), "rotation", "all",
                     tiny_config(nb, epochs=3, lr=0.01), CPU, tmp_path, log=quiet)


def test_corrupt_state_checkpoint_is_reported(nb, tmp_path):
    (tmp_path / "rot.state.pt").write_bytes(b"half a file")
    with pytest.raises(ValueError, match="not a readable checkpoint.*delete it"):
        rotation_run(nb, tmp_path)


def test_nan_loss_stops_the_run_with_advice(nb, tmp_path):
    model = nb.build_resnet18(3)
    with torch.no_grad():
        model.fc.weight.fill_(math.nan)
    with pytest.raises(FloatingPointError, match="NaN or infinite.*Lower the learning rate"):
        nb.train_run("nan", model, tiny_data(nb), "classes", "all", tiny_config(nb), CPU, tmp_path, log=quiet)
    assert not (tmp_path / "nan.state.pt").exists()


def test_unknown_task_is_refused(nb, tmp_path):
    with pytest.raises(ValueError, match="unknown task"):
        nb.train_run("x", nb.build_resnet18(3), tiny_data(nb), "colour", "all", tiny_config(nb), CPU, tmp_path)


def test_save_atomic_never_leaves_half_a_file(nb, tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    nb.save_atomic({"value": torch.tensor([1.0])}, path)

    def crash_midway(obj, tmp):
        tmp.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(nb.torch, "save", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        nb.save_atomic({"value": torch.tensor([2.0])}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True)["value"].item() == 1.0


@pytest.mark.parametrize("preset", ["real", "smoke"])
def test_the_compute_matched_run_is_task_3_with_the_images_of_tasks_1_and_3(nb, preset):
    """Section 15's run differs from Task 3's whole network in its epochs only, and those put as
    many images through the network as Task 1 (every image in its four rotations) and Task 3."""
    config = nb.resolve_preset(preset)
    full, matched, rotation = config["full"], config["full_matched"], config["rotation"]
    assert matched["epochs"] == full["epochs"] + 4 * rotation["epochs"]
    assert {**matched, "epochs": full["epochs"]} == full


def test_presets_and_overrides_are_checked(nb):
    real = nb.resolve_preset("real")
    assert set(nb.RUN_KINDS) <= set(real)
    assert all(set(real[k]) == set(nb.RUN_DEFAULTS) for k in nb.RUN_KINDS)
    changed = nb.resolve_preset("real", {"rotation": {"epochs": 3}, "train_limit": 100})
    assert changed["rotation"]["epochs"] == 3 and changed["train_limit"] == 100
    assert nb.resolve_preset("real")["rotation"] == real["rotation"]   # overrides left the preset alone
    with pytest.raises(ValueError, match="unknown PRESET 'fast'.*real.*smoke"):
        nb.resolve_preset("fast")
    with pytest.raises(ValueError, match="unknown key 'rotaton' in OVERRIDES; valid keys"):
        nb.resolve_preset("real", {"rotaton": {"epochs": 3}})
    with pytest.raises(ValueError, match="unknown key 'epoch' in OVERRIDES.rotation; valid keys"):
        nb.resolve_preset("real", {"rotation": {"epoch": 3}})
    with pytest.raises(ValueError, match="unknown augment 'some' in rotation"):
        nb.resolve_preset("real", {"rotation": {"augment": "some"}})
    assert nb.resolve_preset("real", '{"rotation": {"epochs": 4}}')["rotation"]["epochs"] == 4
    with pytest.raises(ValueError, match="OVERRIDES is not valid JSON"):
        nb.resolve_preset("real", "{rotation: 4")
    with pytest.raises(ValueError, match="OVERRIDES.rotation.epochs must be of type int, got '5'"):
        nb.resolve_preset("real", {"rotation": {"epochs": "5"}})
    with pytest.raises(ValueError, match="full.nesterov must be of type bool"):
        nb.resolve_preset("real", {"full": {"nesterov": 1}})
    assert nb.resolve_preset("real", {"full": {"lr": 1}})["full"]["lr"] == 1   # an int is a fine float
    with pytest.raises(ValueError, match="OVERRIDES.full.lr must be at least 0, got -0.1"):
        nb.resolve_preset("real", {"full": {"lr": -0.1}})
    with pytest.raises(ValueError, match="OVERRIDES.rotation.batch_size must be a positive integer, got 0"):
        nb.resolve_preset("real", {"rotation": {"batch_size": 0}})
    with pytest.raises(ValueError, match="unknown augment 'cutout'"):
        nb.resolve_preset("real", {"rotation": {"augment": "cutout"}})
    assert real["imagenette_rotation"]["augment"] == "resized-crop" and real["rotation"]["augment"] == "pad-crop"
    with pytest.raises(ValueError, match="unknown precision"):
        nb.resolve_preset("real", {"full": {"precision": "fp8"}})
    few = nb.resolve_preset("real", {"few_labels": {"per_class": [10, 50]}})["few_labels"]
    assert few == {"per_class": [10, 50], "min_epoch_images": real["few_labels"]["min_epoch_images"]}
    with pytest.raises(ValueError, match=r"few_labels.per_class\[0\] must be a positive integer, got 0"):
        nb.resolve_preset("real", {"few_labels": {"per_class": [0, 20]}})
    with pytest.raises(ValueError, match="few_labels.per_class must be of type list, got 20"):
        nb.resolve_preset("real", {"few_labels": {"per_class": 20}})
    with pytest.raises(ValueError, match="unknown key 'per_klass' in OVERRIDES.few_labels"):
        nb.resolve_preset("real", {"few_labels": {"per_klass": [20]}})
    with pytest.raises(ValueError, match="few_labels.min_epoch_images must be of type int"):
        nb.resolve_preset("real", {"few_labels": {"min_epoch_images": 2.5}})
    with pytest.raises(ValueError, match="OVERRIDES must be a dict"):
        nb.resolve_preset("real", "[1, 2]")
    for field in ("cifar_val_per_class", "imagenette_val_per_class", "seeds"):
        for bad, message in ((0, "must be a positive integer, got 0"), ("3", "must be of type int"), (True, "must be of type int")):
            with pytest.raises(ValueError, match=f"{field} {message}"):
                nb.resolve_preset("real", {field: bad})
    assert real["seeds"] == 3 and nb.resolve_preset("real", {"seeds": 1})["seeds"] == 1
    assert nb.resolve_preset("real", {"cifar_val_per_class": 50})["cifar_val_per_class"] == 50


def test_the_stronger_backbone_trains_like_the_stock_runs_it_is_set_against(nb):
    real = nb.resolve_preset("real")
    for kind in ("rotation", "layer4", "full"):
        assert real[f"stem_{kind}"] == real[kind], kind          # only the stem differs
    # every training label of the few-label curve is the training set of Tasks 2 and 3
    assert real["few_labels"]["per_class"][-1] == 5_000 - real["cifar_val_per_class"]


@pytest.mark.parametrize("cuda, mps, chosen", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_chooses_cuda_then_mps_then_cpu(nb, monkeypatch, cuda, mps, chosen):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert nb.pick_device("auto").type == chosen
    assert nb.pick_device("cpu").type == "cpu"
    if not cuda:
        with pytest.raises(ValueError, match="DEVICE='cuda' was asked for but is not available"):
            nb.pick_device("cuda")
    with pytest.raises(ValueError, match="unknown DEVICE 'tpu'"):
        nb.pick_device("tpu")


def classifier_run(nb, checkpoint_dir, results_dir, log=quiet, **changes):
    torch.manual_seed(0)
    return nb.train_run("c", nb.build_resnet18(3), tiny_data(nb), "classes", "all", tiny_config(nb, **changes),
                        CPU, checkpoint_dir, log=log, results_dir=results_dir)


def test_a_run_whose_results_file_matches_is_shown_from_it_without_training(nb, tmp_path, monkeypatch):
    first = classifier_run(nb, tmp_path / "ckpt", tmp_path / "results")
    assert json.loads((tmp_path / "results" / "c.json").read_text())["history"] == first["history"]
    for checkpoint in (tmp_path / "ckpt").iterdir():        # a fresh clone: results, no checkpoints
        checkpoint.unlink()
    refuse_training(nb, monkeypatch)
    logged = []
    shown = classifier_run(nb, tmp_path / "ckpt", tmp_path / "results", log=logged.append)
    assert shown["loaded"] and not first["loaded"]
    assert shown["history"] == first["history"] and shown["best"] == first["best"]
    assert logged == []                     # its cell says it was shown, once for all its runs
    assert nb.accuracy_line("c", shown).endswith("; shown from its results file")
    assert "shown from" not in nb.accuracy_line("c", first)
    assert not any((tmp_path / "ckpt").iterdir())           # nothing trained, nothing written
    with pytest.raises(AssertionError, match="trained again"):
        nb.train_run("c", nb.build_resnet18(3), tiny_data(nb), "classes", "all", tiny_config(nb), CPU,
                     tmp_path / "ckpt", log=quiet, results_dir=tmp_path / "results", retrain=True)


def test_a_results_file_of_another_configuration_or_without_needed_weights_is_not_shown(nb, tmp_path, monkeypatch):
    classifier_run(nb, tmp_path / "ckpt", tmp_path / "results")
    (tmp_path / "ckpt" / "c.state.pt").unlink()
    changed = classifier_run(nb, tmp_path / "ckpt", tmp_path / "results", lr=0.01)
    assert not changed["loaded"]
    assert json.loads((tmp_path / "results" / "c.json").read_text())["config"]["lr"] == 0.01
    (tmp_path / "ckpt" / "c.best.pt").unlink()
    refuse_training(nb, monkeypatch)
    run = lambda needs_weights: nb.train_run(
        "c", nb.build_resnet18(3), tiny_data(nb), "classes", "all", tiny_config(nb, lr=0.01), CPU,
        tmp_path / "ckpt", log=quiet, results_dir=tmp_path / "results", needs_weights=needs_weights)
    assert run(needs_weights=False)["loaded"]
    with pytest.raises(AssertionError, match="trained again"):     # a later cell loads its weights
        run(needs_weights=True)


def test_a_run_stopped_before_its_results_file_writes_it_from_its_last_state_without_training(nb, tmp_path, monkeypatch):
    write_json = nb.write_json

    def crash_on_the_results_file(obj, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(nb, "write_json", crash_on_the_results_file)
    with pytest.raises(KeyboardInterrupt):
        classifier_run(nb, tmp_path / "ckpt", tmp_path / "results")
    monkeypatch.setattr(nb, "write_json", write_json)
    assert not (tmp_path / "results" / "c.json").exists()
    refuse_training(nb, monkeypatch)
    finished = classifier_run(nb, tmp_path / "ckpt", tmp_path / "results")
    assert len(finished["history"]) == 2 and finished["resumed_from_epoch"] == 2
    assert json.loads((tmp_path / "results" / "c.json").read_text())["history"] == finished["history"]


def test_a_sections_runs_share_one_experiment_and_transfer_from_its_own_rotation_run(nb, tmp_path):
    cfg = tiny_config(nb, epochs=1)
    experiment = nb.Experiment({"x_rotation": cfg, "x_layer4": cfg, "x_full": cfg}, CPU, tmp_path / "ckpt",
                               tmp_path / "results", seed=3)
    runs = nb.rotation_and_transfer_runs(experiment, "x_", tiny_data(nb))
    assert list(runs) == ["rotation", "layer4_from_rotation", "layer4_from_random", "full_from_rotation",
                          "full_from_random"]
    trunk = nb.trunk_fingerprint(torch.load(tmp_path / "ckpt" / "x_rotation.best.pt", weights_only=True)["model"])
    assert runs["full_from_rotation"]["trunk"] == {"init": "rotation", "trunk_sha1": trunk}
    assert runs["layer4_from_random"]["trunk"] == {"init": "random"} and runs["layer4_from_random"]["scope"] == "layer4+fc"
    assert all(r["seed"] == 3 and not r["loaded"] for r in runs.values())
    assert sorted(p.stem for p in (tmp_path / "results").iterdir()) == sorted(f"x_{name}" for name in runs)
    again = nb.rotation_and_transfer_runs(experiment, "x_", tiny_data(nb))
    assert all(r["loaded"] for r in again.values())


def test_another_seed_names_its_runs_apart_and_starts_them_from_its_own_draws(nb, tmp_path):
    cfg = tiny_config(nb, epochs=1)
    experiment = nb.Experiment({"x_rotation": cfg, "x_layer4": cfg, "x_full": cfg}, CPU, tmp_path / "ckpt",
                               tmp_path / "results", seed=0)
    assert experiment.for_seed(0) == experiment                       # SEED's own runs keep their names
    seeded = experiment.for_seed(2)
    assert seeded.seed == 2 and seeded.best_checkpoint("x_rotation") == tmp_path / "ckpt" / "x_rotation_seed2.best.pt"
    runs = {seed: nb.rotation_and_transfer_runs(e, "x_", tiny_data(nb)) for seed, e in ((0, experiment), (2, seeded))}
    assert [r["name"] for r in runs[2].values()] == [f"x_{name}_seed2" for name in runs[0]]
    assert all(r["seed"] == 2 for r in runs[2].values())
    for name in runs[0]:            # another initialisation, data order and augmentation: other weights
        assert runs[0][name]["final"]["train_loss"] != runs[2][name]["final"]["train_loss"], name
    trunk = nb.trunk_fingerprint(torch.load(seeded.best_checkpoint("x_rotation"), weights_only=True)["model"])
    assert runs[2]["full_from_rotation"]["trunk"]["trunk_sha1"] == trunk != runs[0]["full_from_rotation"]["trunk"]["trunk_sha1"]


def test_a_classifier_starts_from_a_half_precision_checkpoint_as_from_fp32(nb, tmp_path):
    """Seeds 1 and 2's committed rotation networks are stored in half precision."""
    path = tmp_path / "r.best.pt"
    model = nb.build_resnet18(4)
    half = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    nb.save_atomic({"format": nb.CHECKPOINT_FORMAT, "task": "rotation", "epoch": 3, "model": half}, path)
    classifier = nb.make_classifier("rotation", 10, path)
    assert classifier.conv1.weight.dtype == torch.float32
    assert torch.allclose(classifier.conv1.weight.detach(), model.conv1.weight.detach(), atol=1e-3)
    assert classifier.trunk_source["trunk_sha1"] == nb.trunk_fingerprint(half)


def test_a_run_over_seeds_is_the_mean_of_its_seeds_with_their_range(nb):
    rows = [{"epochs": 10, "final_acc": a, "train_acc": 0.9, "best_acc": a - 0.01, "lowest_test_loss_acc": a + 0.01,
             "train_minutes": m, "images_per_s": 100.0} for a, m in ((0.80, 4.0), (0.86, 6.0), (0.83, 5.0))]
    summary = nb.over_seeds(rows)
    assert summary["final_acc"] == pytest.approx(0.83) and (summary["final_min"], summary["final_max"]) == (0.80, 0.86)
    assert summary["best_acc"] == pytest.approx(0.82) and summary["train_minutes"] == pytest.approx(5.0)
    assert summary["by_seed"] == rows
    assert nb.mean_and_range([0.80, 0.86, 0.83]) == "83.0% (80.0-86.0)"
    assert nb.mean_and_range([0.8312], 2) == "83.12%"


def test_with_a_validation_split_the_best_epoch_is_chosen_on_it_not_on_the_test_set(nb, tmp_path, monkeypatch):
    data = tiny_data(nb, n_train=60, n_test=16).hold_out(4, seed=0)
    evaluate = nb.evaluate
    losses = {"test": iter([0.9, 0.1, 0.5]), "val": iter([0.2, 0.6, 0.4])}   # test lowest at 2, val at 1

    def scripted(*args, **kwargs):
        split = args[5] if len(args) > 5 else kwargs.get("split", "test")
        metrics = evaluate(*args, **kwargs)
        return {**metrics, f"{split}_loss": next(losses[split])}
    monkeypatch.setattr(nb, "evaluate", scripted)
    run = nb.train_run("v", nb.build_resnet18(3), data, task="classes", scope="all",
                       cfg=tiny_config(nb, epochs=3), device=torch.device("cpu"), checkpoint_dir=tmp_path,
                       log=lambda *a: None, results_dir=tmp_path / "results")
    assert [r["val_loss"] for r in run["history"]] == [0.2, 0.6, 0.4]
    assert run["best"]["epoch"] == 1 and run["best"]["val_loss"] == 0.2
    assert torch.load(tmp_path / "v.best.pt", weights_only=True)["epoch"] == 1
    assert run["n_val"] == 12 and run["n_train"] == 48
    # Beside the checkpoint's figure, the assignment's: the epoch of lowest test loss (here 2).
    assert nb.at_lowest_test_loss(run) == (2, run["history"][1]["test_acc"])
    row = nb.run_row(run)
    assert (row["best_epoch"], row["lowest_test_loss_epoch"]) == (1, 2)
    line = nb.accuracy_line("v", run)
    assert "at lowest val loss (epoch 1, the checkpoint)" in line and "at lowest test loss (epoch 2)" in line

"""The whole notebook, headless (papermill, smoke preset) on a synthetic class-folder data set;
the committed notebook as a student gets it (its defaults, Run all as on Colab)."""
import ast
import json
import os
import re
import shutil

import nbclient
import nbformat
import papermill
import pytest
import torch

from conftest import NOTEBOOK, ROOT, write_class_folder
from drop_injected_cell import drop_injected_cells

CLASSES = [f"class{i}" for i in range(10)]
RUNS = ["rotation", "layer4_from_rotation", "layer4_from_random", "full_from_rotation", "full_from_random"]
FIGURES = ["rotation_examples", "task1_rotation_curves", "task1_rotation_confusion", "task2_layer4_curves", "task3_full_curves",
           "few_labels", "imagenette_rotation_curves",
           "inside_extreme_examples", "inside_filters",
           "inside_cams", "inside_tsne", "inside_neighbours_supervised",
           "inside_neighbours_rotation", "contrastive_views", "contrastive_curves",
           "compute_matched", "depth_probe", "freeze_depth"]
SETUPS = ["layer4_from_rotation", "layer4_from_random", "full_from_rotation", "full_from_random"]
SEED_RUNS = RUNS + [f"{name}_seed1" for name in RUNS]    # the smoke preset's two seeds, 0 and 1


def execute(tmp_path, name, **parameters):
    output = tmp_path / name
    papermill.execute_notebook(str(NOTEBOOK), str(output), parameters=parameters, cwd=str(tmp_path),
                               kernel_name="python3", progress_bar=False)
    return json.loads(output.read_text())


def state_mtimes(tmp_path):
    return {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out" / "checkpoints").glob("*.state.pt")}


def printed(notebook):
    return "".join("".join(o.get("text", "")) for c in notebook["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("e2e")
    write_class_folder(tmp_path / "cifar", classes=CLASSES, n_train=30, n_test=10)
    write_class_folder(tmp_path / "nette", classes=CLASSES, n_train=6, n_test=3, size=48, seed=1)
    (tmp_path / "nette" / "test").rename(tmp_path / "nette" / "val")     # Imagenette's layout
    parameters = dict(DATA_DIR=str(tmp_path / "cifar"), OUT_DIR=str(tmp_path / "out"), PRESET="smoke",
                      IMAGENETTE_DIR=str(tmp_path / "nette"), IMAGENETTE_SIZE=32)
    first = execute(tmp_path, "first.ipynb", **parameters)
    tmp_path.joinpath("state_mtimes.json").write_text(json.dumps(state_mtimes(tmp_path)))
    shutil.copy(tmp_path / "out" / "results" / "contrastive.json", tmp_path / "first_contrastive.json")
    # The second run is one whose outputs are kept (no progress bars), and it skips section 14
    # (CONTRASTIVE_SECTION = False): every run it shows comes from the first run.
    os.environ["TQDM_DISABLE"] = "1"
    try:
        second = execute(tmp_path, "second.ipynb", **{**parameters, "CONTRASTIVE_SECTION": False})
    finally:
        del os.environ["TQDM_DISABLE"]
    return tmp_path, parameters, first, second


def test_notebook_writes_results_checkpoints_and_figures(smoke_run):
    tmp_path, _, first, _ = smoke_run
    out = tmp_path / "out"
    errors = [o for c in first["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    smoke = {"rotation": 2, "layer4": 1, "full": 1}
    for name in RUNS:
        run = json.loads((out / "results" / f"{name}.json").read_text())
        assert len(run["history"]) == smoke[name.split("_")[0]]
        assert run["n_train"] == 256 and run["n_test"] == 100 and run["n_val"] == 20    # 2 per class held out
        assert run["best"]["val_loss"] == min(r["val_loss"] for r in run["history"])  # chosen on validation
        assert 0.0 <= run["final"]["test_acc"] <= 1.0 and run["final"]["images_per_s"] > 0
        assert (out / "checkpoints" / f"{name}.state.pt").is_file()
        assert (out / "checkpoints" / f"{name}.best.pt").is_file()
    summary = json.loads((out / "results" / "summary.json").read_text())
    assert [r["name"] for r in summary["rows"]] == RUNS
    assert summary["rows"][0]["expected"] == 78
    assert 0 < summary["wall_minutes"] < 30 and summary["config"]["rotation"]["epochs"] == 2
    confusion = json.loads((out / "results" / "rotation_confusion.json").read_text())
    assert sum(map(sum, confusion["confusion"])) == 4 * 100
    assert sorted(confusion["accuracy_by_class"]) == CLASSES
    rotation = torch.load(out / "checkpoints" / "rotation.best.pt", weights_only=True)
    assert rotation["task"] == "rotation" and rotation["model"]["fc.weight"].shape == (4, 512)
    layer4 = torch.load(out / "checkpoints" / "layer4_from_rotation.best.pt", weights_only=True)
    assert layer4["model"]["fc.weight"].shape == (10, 512)
    for name in FIGURES:
        png = (out / "figures" / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 5_000
    assert "| Task 1, rotation |" in json.dumps(first)
    assert "256 training, 20 validation (held out of the training images) and 100 test images" in printed(first)
    assert "validation [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]" in printed(first)


def test_rerun_loads_finished_runs_instead_of_training(smoke_run):
    tmp_path, _, first, second = smoke_run
    before = json.loads(tmp_path.joinpath("state_mtimes.json").read_text())
    per_method = 1 + 2 + 2 * 2                 # pre-training, layer4 and full, two few-label counts of each
    few_labels = 2 * 2 * len(SETUPS)           # two counts, two seeds
    freeze_depths = 2 * 4                      # section 16: four depths beside Task 2's, from rotation and random
    assert len(before) == len(SEED_RUNS) + few_labels + 5 + 5 + 2 * per_method + 1 + freeze_depths   # + Imagenette, stem, 15
    assert state_mtimes(tmp_path) == before                       # not one checkpoint rewritten
    shown = len(before) - 2 * per_method                          # the second run leaves section 14 out
    # Each run shown says so once: in its own line of numbers, or in its cell's count of runs shown.
    counted = sum(int(n) for n in re.findall(r"runs shown from their results files, not trained: (\d+) of", printed(second)))
    assert counted + printed(second).count("shown from its results file") == shown
    assert "shown from its results file" not in printed(first) and "runs shown from" not in printed(first)
    assert "epoch 1/" not in printed(second)                               # no replayed epoch logs
    summary = json.loads((tmp_path / "out" / "results" / "summary.json").read_text())
    assert summary["loaded_runs"] == sorted(SEED_RUNS)


def test_few_label_section_trains_on_balanced_subsets_and_scores_the_full_test_set(smoke_run):
    tmp_path, _, _, _ = smoke_run
    few = json.loads((tmp_path / "out" / "results" / "few_labels.json").read_text())
    assert list(few["curves"]) == SETUPS
    assert few["seeds"] == [0, 1]
    for setup, points in few["curves"].items():
        assert [p["per_class"] for p in points] == [2, 4]
        for p in points:
            assert p["n_labelled"] == 10 * p["per_class"] and p["n_test"] == 100
            assert p["images_per_epoch"] % p["n_labelled"] == 0 and p["images_per_epoch"] >= 64
            assert [r["run"] for r in p["by_seed"]] == [f"few{p['per_class']}_{setup}", f"few{p['per_class']}_{setup}_seed1"]
            accs = [r["final_acc"] for r in p["by_seed"]]
            assert len(accs) == 2 and all(0 <= a <= 1 for a in accs)
            assert p["final_acc"] == pytest.approx(sum(accs) / 2) and (p["final_min"], p["final_max"]) == (min(accs), max(accs))
    for per_class in (2, 4):
        for setup in SETUPS:
            for suffix, seed in (("", 0), ("_seed1", 1)):
                state = torch.load(tmp_path / "out" / "checkpoints" / f"few{per_class}_{setup}{suffix}.state.pt",
                                   weights_only=True)
                assert state["signature"]["n_train"] == few["curves"][setup][0 if per_class == 2 else 1]["images_per_epoch"]
                assert state["signature"]["seed"] == seed


def test_every_seed_repeats_tasks_1_to_3_from_its_own_rotation_network(smoke_run):
    tmp_path, _, first, _ = smoke_run
    out = tmp_path / "out"
    summary = json.loads((out / "results" / "summary.json").read_text())
    assert summary["seeds"] == [0, 1]
    for row in summary["rows"]:
        accs = [r["final_acc"] for r in row["by_seed"]]
        assert [r["run"] for r in row["by_seed"]] == [row["name"], f"{row['name']}_seed1"]
        assert row["final_acc"] == pytest.approx(sum(accs) / 2) and (row["final_min"], row["final_max"]) == (min(accs), max(accs))
    signatures = {seed: {name: json.loads((out / "results" / f"{name}{suffix}.json").read_text())
                         for name in RUNS} for seed, suffix in ((0, ""), (1, "_seed1"))}
    for seed, by_name in signatures.items():
        assert {s["seed"] for s in by_name.values()} == {seed}
    # each seed's transfer starts from its own rotation network
    trunks = {seed: {s["trunk"].get("trunk_sha1") for s in by_name.values() if "trunk" in s} - {None}
              for seed, by_name in signatures.items()}
    assert len(trunks[0]) == len(trunks[1]) == 1 and trunks[0] != trunks[1]
    assert "rotation minus random weights, seed by seed:" in printed(first)


def test_imagenette_section_chooses_checkpoints_on_a_held_out_split_and_tests_on_its_val_folder(smoke_run):
    tmp_path, _, first, _ = smoke_run
    nette = json.loads((tmp_path / "out" / "results" / "imagenette.json").read_text())
    assert nette["n_train"] == 50 and nette["n_val"] == 10 and nette["n_test"] == 30 and nette["size"] == 32
    assert list(nette["rows"]) == ["rotation"] + SETUPS
    assert nette["runs"]["rotation"]["n_test"] == 30 and nette["runs"]["rotation"]["n_val"] == 10
    for run in nette["runs"].values():        # every checkpoint chosen on the validation split
        assert "val_loss" in run["best"] and run["best"]["val_loss"] == min(r["val_loss"] for r in run["history"])
    assert nette["runs"]["rotation"]["config"]["augment"] == "resized-crop"       # as in the real preset
    assert nette["runs"]["full_from_rotation"]["config"]["augment"] == "pad-crop"
    assert nette["runs"]["full_from_rotation"]["trunk"]["init"] == "rotation"
    fine_tuned = torch.load(tmp_path / "out" / "checkpoints" / "imagenette_full_from_rotation.best.pt",
                            weights_only=True)
    assert fine_tuned["model"]["fc.weight"].shape == (10, 512)
    assert ("Imagenette: 50 training, 10 validation (held out of the training folder) and 30 test images "
            "(the val/ folder) of size (3, 32, 32)") in printed(first)


def test_stem_section_sets_each_3x3_run_beside_its_stock_counterpart(smoke_run):
    tmp_path, _, first, second = smoke_run
    stem = json.loads((tmp_path / "out" / "results" / "stem.json").read_text())
    assert list(stem["rows"]) == ["rotation"] + SETUPS
    assert stem["rows"]["rotation"]["stock"]["run"] == "rotation"
    assert stem["rows"]["full_from_rotation"]["3x3"]["run"] == "stem_full_from_rotation"
    assert 3.5 < stem["multiply_adds"]["3x3"] / stem["multiply_adds"]["stock"] < 4.5
    fine_tuned = torch.load(tmp_path / "out" / "checkpoints" / "stem_full_from_rotation.best.pt", weights_only=True)
    assert fine_tuned["model"]["conv1.weight"].shape == (64, 3, 3, 3)
    assert fine_tuned["model"]["fc.weight"].shape == (10, 512)
    assert "STEM_SECTION is False" not in printed(first)


def test_inside_section_analyses_the_two_networks_of_tasks_1_and_3_without_training(smoke_run):
    tmp_path, _, first, second = smoke_run
    inside = json.loads((tmp_path / "out" / "results" / "inside.json").read_text())
    assert {net: n["run"] for net, n in inside["networks"].items()} == {"supervised": "full_from_random",
                                                                        "rotation": "rotation"}
    for net in inside["networks"].values():
        assert 0 <= net["knn_acc"] <= 1 and 0 <= net["neighbours_same_class"] <= 50
    assert inside["knn"]["train"] == 256 and inside["knn"]["test"] == 100 and len(inside["queries"]) == 5
    for run in ("full_from_random", "rotation"):      # measured again: what the run recorded, same weights
        assert re.search(rf"\({run}, epoch \d+\): test accuracy (\d+\.\d+)% now, \1% when it trained", printed(first))
    assert "mean loss of its 400 test examples" in printed(first)
    assert inside["cam"]["networks"] == {"supervised": "stem_full_from_random", "rotation": "stem_rotation"}
    assert 1 <= len(inside["cam"]["images"]) <= 4
    assert re.search(r"supervised: maps \(10, 2, 2\) per image; mean \+ bias - logit at most \d", printed(first))


def test_contrastive_section_puts_both_encoders_through_the_rotation_trunks_protocol(smoke_run):
    tmp_path, _, first, second = smoke_run
    out = tmp_path / "out"
    result = json.loads((tmp_path / "first_contrastive.json").read_text())
    inits = ["random", "rotation", "simclr", "barlow"]
    assert list(result["rows"]) == ["kNN (k = 5)"] + [
        f"{label}, {n} labels/class" for label in ("layer4+fc", "whole network") for n in (2, 4)]
    assert all(list(values) == inits for values in result["rows"].values())
    assert all(0 <= v <= 1 for values in result["rows"].values() for v in values.values())
    assert result["winner"]["kNN (k = 5)"] == max(inits, key=lambda i: result["rows"]["kNN (k = 5)"][i])
    for method in ("simclr", "barlow"):
        run = result["pretraining"][method]
        assert run["objective"]["method"] == method and run["n_train"] == 256 and run["n_val"] == 20
        assert run["best"]["val_loss"] == min(r["val_loss"] for r in run["history"])
        trunk = torch.load(out / "checkpoints" / f"{method}.trunk.pt", weights_only=True)
        assert trunk["task"] == method and "fc.weight" not in trunk["model"]
        full = json.loads((out / "results" / f"full_from_{method}.json").read_text())
        assert full["trunk"]["init"] == method and full["config"] == result["config"]["full"]   # Task 3's recipe
        few = json.loads((out / "results" / f"few2_layer4_from_{method}.json").read_text())
        assert few["n_train"] == 80 and few["config"] == result["config"]["layer4"]
    fine_tuned = torch.load(out / "checkpoints" / "full_from_simclr.best.pt", weights_only=True)
    assert fine_tuned["model"]["fc.weight"].shape == (10, 512)
    assert result["rows"]["whole network, 4 labels/class"]["rotation"] == pytest.approx(
        json.loads((out / "results" / "few4_full_from_rotation.json").read_text())["final"]["test_acc"])
    assert "CONTRASTIVE_SECTION is False" not in printed(first)
    assert re.search(r"simclr: kNN test accuracy \d+\.\d+% after epoch 1", printed(first))


def test_section_14_is_skipped_when_the_parameter_says_so(smoke_run):
    """CONTRASTIVE_SECTION = False (the second execution): one line says so, and the first
    execution's contrastive.json stays as it was."""
    tmp_path, _, _, second = smoke_run
    assert "CONTRASTIVE_SECTION is False: section 14 skipped" in printed(second)
    assert not re.search(r"\] epoch \d+/\d+", printed(second))                # nothing trained again
    assert (tmp_path / "out" / "results" / "contrastive.json").read_text() == (tmp_path / "first_contrastive.json").read_text()


def test_section_15_gives_random_weights_the_images_of_tasks_1_and_3(smoke_run):
    """The compute-matched run: Task 3's whole network from the same random weights, trained until
    it has put as many images through the network as the rotation run and Task 3's fine-tuning."""
    tmp_path, _, _, _ = smoke_run
    out = tmp_path / "out"
    result = json.loads((out / "results" / "compute_matched.json").read_text())
    rows = result["rows"]
    assert [r["run"] for r in rows.values()] == ["full_from_rotation", "full_from_random", "full_matched_from_random"]
    pretrained, task3, matched = rows.values()
    assert pretrained["image_passes"] == 2 * 4 * 256 + 1 * 256          # rotation: 2 epochs of 4 copies, then 1
    assert task3["image_passes"] == 256 and matched["image_passes"] == pretrained["image_passes"]
    run = json.loads((out / "results" / "full_matched_from_random.json").read_text())
    assert len(run["history"]) == 9 and run["trunk"]["init"] == "random"
    assert {**run["config"], "epochs": 1} == result["config"]["full"]    # Task 3's recipe, more epochs
    assert run["seed"] == json.loads((out / "results" / "full_from_random.json").read_text())["seed"] == 0


def test_unknown_preset_stops_the_notebook_with_a_clear_message(smoke_run):
    tmp_path, parameters, _, _ = smoke_run
    with pytest.raises(papermill.PapermillExecutionError, match="unknown PRESET 'fast'"):
        execute(tmp_path, "bad.ipynb", **{**parameters, "PRESET": "fast"})


def progress_outputs(notebook):
    """Outputs that are progress bars: tqdm widgets, or tqdm's text bars on stderr."""
    return [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
            if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            or "it/s]" in "".join(o.get("text", ""))]


def test_tqdm_disable_leaves_the_progress_bars_out(smoke_run):
    _, _, first, second = smoke_run
    assert progress_outputs(first)
    assert not progress_outputs(second)


def test_every_progress_bar_goes_through_the_helper_that_honours_tqdm_disable(nb, monkeypatch):
    source = "".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"])
    assert source.count("tqdm(") == 1, "a progress bar bypasses progress(), so TQDM_DISABLE misses it"
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert nb.progress(range(3)).disable
    monkeypatch.delenv("TQDM_DISABLE")
    assert not nb.progress(range(3)).disable


def parameters_cell(notebook):
    cells = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1
    return cells[0]


def assigned_values(source):
    """NAME -> value of every `NAME = literal` line of a parameters cell."""
    return {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(source).body}


def readme_defaults():
    """NAME -> default of the README's parameter table (`NAME` | `value` | meaning)."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| `([^`]*)` \|", (ROOT / "README.md").read_text(), re.MULTILINE)
    def value(text):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
    return {name: value(text) for name, text in rows}


def test_the_committed_notebook_starts_from_its_documented_defaults():
    notebook = json.loads(NOTEBOOK.read_text())
    tags = [t for c in notebook["cells"] for t in c.get("metadata", {}).get("tags", [])]
    assert "injected-parameters" not in tags, "run tools/drop_injected_cell.py A4.ipynb"
    defaults = assigned_values("".join(parameters_cell(notebook)["source"]))
    assert defaults == readme_defaults()
    assert defaults["DATA_DIR"] is None and defaults["IMAGENETTE_DIR"] is None and defaults["PRESET"] == "real"
    errors = [o for c in notebook["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def test_the_documented_command_that_runs_the_notebook_in_place_then_drops_the_injected_cell():
    reproducing = (ROOT / "docs" / "reproducing.md").read_text()
    commands = re.findall(r"papermill A4.ipynb A4.ipynb[^`]*?(?=\n\n|```)", reproducing, re.DOTALL)
    assert commands and all("tools/drop_injected_cell.py A4.ipynb" in c for c in commands)


def test_dropping_the_injected_cell_keeps_every_output_and_the_parameters_record(smoke_run):
    tmp_path, parameters, _, _ = smoke_run
    executed = nbformat.read(tmp_path / "first.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "DATA_DIR" in injected[0].source
    others = [c for c in executed.cells if c not in injected]
    assert drop_injected_cells(executed) == 1
    assert executed.cells == others
    assert executed.metadata["papermill"]["parameters"]["DATA_DIR"] == parameters["DATA_DIR"]
    assert drop_injected_cells(executed) == 0


def test_run_all_of_the_committed_notebook_as_on_colab(tmp_path):
    """The committed notebook as it is, run top to bottom with no papermill parameters, only the
    data location (and the preset) edited in its parameters cell, the way a student would: Part I
    alone, as the quick preset runs it, into the preset's own folder (OUT_DIR left at None)."""
    write_class_folder(tmp_path / "cifar", classes=[f"class{i}" for i in range(10)], n_train=30, n_test=10)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cell = parameters_cell(notebook)
    source = cell.source.replace("DATA_DIR = None ", f"DATA_DIR = {str(tmp_path / 'cifar')!r} ")
    source = source.replace('PRESET = "real" ', 'PRESET = "smoke" ')
    # The smoke run above covers a second seed and Parts II and III; here they would only add CI time.
    source = source.replace("OVERRIDES = {} ", 'OVERRIDES = {"seeds": 1, "parts": ["I"]} ')
    values = assigned_values(source)
    assert values["DATA_DIR"] == str(tmp_path / "cifar") and values["OUT_DIR"] is None
    assert values["PRESET"] == "smoke" and values["OVERRIDES"] == {"seeds": 1, "parts": ["I"]}
    cell.source = source
    for c in notebook.cells:            # a fresh start, as after Edit > Clear all outputs
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=900,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = printed(notebook)
    part_cells = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith("%%part ")]
    assert len(part_cells) >= 20
    assert text.count("not run: preset 'smoke' runs Part I\n") == len(part_cells)
    assert all("".join(o.get("text", "") for o in c.outputs) == "not run: preset 'smoke' runs Part I\n"
               for c in part_cells)
    out = tmp_path / "runs" / "smoke"
    assert not (tmp_path / "results").exists()
    summary = json.loads((out / "results" / "summary.json").read_text())
    assert [r["name"] for r in summary["rows"]] == RUNS and summary["preset"] == "smoke"
    assert sorted(p.name for p in (out / "results").iterdir()) == sorted(
        [f"{name}.json" for name in RUNS] + ["rotation_confusion.json", "summary.json"])
    assert all(r["device"] == "cpu" for r in json.loads((out / "results" / "rotation.json").read_text())["history"])


def test_section_16_probes_each_network_once_and_freezes_at_every_depth(smoke_run):
    tmp_path, _, first, second = smoke_run
    results = tmp_path / "out" / "results"
    probes = json.loads((results / "depth_probe.json").read_text())
    assert list(probes) == ["random", "rotation", "supervised", "simclr", "barlow"]
    stages = ["stem", "layer1", "layer2", "layer3", "layer4"]
    for name, probe in probes.items():
        assert list(probe["classes"]) == stages and (probe["rotation"] is not None) == (name == "rotation")
        assert all(0 <= probe["classes"][s]["test_acc"] <= 1 for s in stages)
    assert printed(first).count("probed at every depth in") == 5
    assert printed(second).count("probed before") == 3 and "probed at every depth in" not in printed(second)   # no section 14
    freeze = json.loads((results / "freeze_depth.json").read_text())
    assert list(freeze["rows"]) == ["fc", "layer4+fc", "layer3..fc", "layer2..fc", "all"]
    assert freeze["rows"]["layer4+fc"]["rotation"]["run"] == "layer4_from_rotation"      # Task 2's run itself
    assert freeze["rows"]["layer3..fc"]["random"]["run"] == "freeze_layer3_from_random"
    counts = list(freeze["trained_parameters"].values())
    assert counts == sorted(counts) and counts[0] == 512 * 10 + 10

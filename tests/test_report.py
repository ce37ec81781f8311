"""tools/make_report.py: report.md and README's results table are what it writes from the committed
results; a claim of the text that the results do not support stops it; standard library only."""
import ast
import json
import shutil
import subprocess
import sys

from conftest import ROOT

GENERATOR = ROOT / "tools" / "make_report.py"


def generate(results, tmp_path):
    readme = tmp_path / "README.md"
    shutil.copy(ROOT / "README.md", readme)
    return subprocess.run([sys.executable, str(GENERATOR), "--results", str(results), "--report",
                           str(tmp_path / "report.md"), "--readme", str(readme)], capture_output=True, text=True)


def generate_with_changed(tmp_path, name, change):
    """The generator on a copy of the committed results in which `change` has edited results/<name>.json."""
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results", results)
    record = json.loads((results / f"{name}.json").read_text())
    change(record)
    (results / f"{name}.json").write_text(json.dumps(record))
    (tmp_path / "out").mkdir()
    return generate(results, tmp_path / "out")


def test_committed_report_and_readme_table_are_what_the_generator_writes(tmp_path):
    done = generate(ROOT / "results", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.md").read_text() == (ROOT / "report.md").read_text()
    assert (tmp_path / "README.md").read_text() == (ROOT / "README.md").read_text()
    report = (tmp_path / "report.md").read_text()
    summary = json.loads((ROOT / "results" / "summary.json").read_text())
    for row in summary["rows"]:
        assert f"| {row['label']} | **{100 * row['final_acc']:.1f}%" in report         # the mean over seeds
    assert "{" not in report and "}" not in report                        # every field filled in


def test_the_report_reads_in_ten_minutes():
    """At most 1,800 words of prose beside its tables, and at most five figures."""
    lines = (ROOT / "report.md").read_text().splitlines()
    prose = [line for line in lines if not line.startswith(("|", "!["))]
    assert len(" ".join(prose).split()) <= 1800
    assert sum(line.startswith("![") for line in lines) <= 5


def test_a_claim_the_results_do_not_support_stops_the_generator(tmp_path):
    def random_ahead(nette):
        nette["runs"]["full_from_random"]["final"]["test_acc"] = 0.99        # random now beats rotation
        nette["rows"]["full_from_random"]["final_acc"] = 0.99                # (the table's copy of it)
    done = generate_with_changed(tmp_path, "imagenette", random_ahead)
    assert done.returncode != 0 and "Imagenette: rotation beats random in both transfers" in done.stderr
    assert not (tmp_path / "out" / "report.md").exists()


def with_two_seeds(results, change=None):
    """The committed summary as if every run had a second seed (a copy of the first, changed by `change`)."""
    summary = json.loads((results / "summary.json").read_text())
    summary["seeds"] = [0, 1]
    for row in summary["rows"]:
        row["by_seed"] = [row["by_seed"][0], {**row["by_seed"][0], "run": row["name"] + "_seed1"}]
        if change:
            change(row)
        accs = [s["final_acc"] for s in row["by_seed"]]
        row.update(final_acc=sum(accs) / 2, final_min=min(accs), final_max=max(accs))
    (results / "summary.json").write_text(json.dumps(summary))
    return summary


def test_with_several_seeds_the_report_shows_their_mean_and_range_and_the_gain_in_each(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results", results)
    def second_seed_a_point_lower(row):
        row["by_seed"][1]["final_acc"] -= 0.01
    summary = with_two_seeds(results, second_seed_a_point_lower)
    (tmp_path / "out").mkdir()
    done = generate(results, tmp_path / "out")
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    first = summary["rows"][0]["by_seed"][0]["final_acc"]
    assert f"| Task 1, rotation | **{100 * (first - 0.005):.1f}% ({100 * (first - 0.01):.1f}-{100 * first:.1f})** |" in report
    assert "Tasks 1-3 ran with 2 seeds (0, 1)" in report
    assert "The rotation trunk is ahead in every seed" in report and "One seed each" not in report


def test_a_seed_in_which_random_weights_win_task_3_stops_the_generator(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results", results)
    def random_wins_in_seed_1(row):
        if row["name"] == "full_from_random":
            row["by_seed"][1]["final_acc"] = 0.99
    with_two_seeds(results, random_wins_in_seed_1)
    (tmp_path / "out").mkdir()
    done = generate(results, tmp_path / "out")
    assert done.returncode != 0 and "the rotation trunk is ahead of random weights in every seed" in done.stderr


def test_generator_imports_only_the_standard_library():
    tree = ast.parse(GENERATOR.read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules and modules <= set(sys.stdlib_module_names), modules - set(sys.stdlib_module_names)


def test_a_stem_run_trained_otherwise_than_its_stock_counterpart_stops_the_generator(tmp_path):
    def fewer_epochs(stem):
        stem["config"]["stem_full"]["epochs"] = 8                             # fewer epochs than Task 3's
    done = generate_with_changed(tmp_path, "stem", fewer_epochs)
    assert done.returncode != 0 and "stem: its runs train with the configurations of Tasks 1-3" in done.stderr
    assert not (tmp_path / "out" / "report.md").exists()


def test_a_fine_tuning_from_simclr_trained_otherwise_than_tasks_2_and_3_stops_the_generator(tmp_path):
    def another_lr(run):
        run["config"]["lr"] = 0.2                                            # not Task 2's recipe
    done = generate_with_changed(tmp_path, "layer4_from_simclr", another_lr)
    assert done.returncode != 0 and ("contrastive: layer4_from_simclr trains with the configuration and images "
                                     "of layer4_from_rotation") in done.stderr


def test_simclr_features_no_better_than_rotations_stop_the_generator(tmp_path):
    def weaker_knn(contrastive):
        contrastive["rows"]["kNN (k = 200)"]["simclr"] = 0.46                # below rotation's kNN
    done = generate_with_changed(tmp_path, "contrastive", weaker_knn)
    assert done.returncode != 0 and "contrastive: SimCLR's frozen features beat rotation's" in done.stderr


def test_a_compute_matched_run_behind_the_rotation_start_stops_the_generator(tmp_path):
    def matched_behind(compute):
        matched = next(r for r in compute["rows"].values() if r["run"] == "full_matched_from_random")
        matched["final_acc"] = 0.84                                           # below the rotation start's 85.9%
    done = generate_with_changed(tmp_path, "compute_matched", matched_behind)
    assert done.returncode != 0 and "compute: with the same compute, random weights are ahead of the rotation start" in done.stderr


def test_a_few_label_seed_from_random_weights_above_one_from_rotation_stops_the_generator(tmp_path):
    def random_ahead_in_one_seed(few):
        best_from_rotation = max(r["final_acc"] for r in few["curves"]["full_from_rotation"][0]["by_seed"])
        few["curves"]["full_from_random"][0]["by_seed"][-1]["final_acc"] = best_from_rotation + 0.01   # 20 per class
    done = generate_with_changed(tmp_path, "few_labels", random_ahead_in_one_seed)
    assert done.returncode != 0 and ("few labels: at every count the whole network's worst seed from rotation "
                                     "beats its best seed from random weights") in done.stderr


def test_the_few_label_spread_in_the_report_is_the_widest_range_over_section_10s_seeds(tmp_path):
    def ten_point_range(few):
        point = few["curves"]["layer4_from_random"][1]                          # 100 per class
        point["final_min"], point["final_max"] = 0.30, 0.40
    done = generate_with_changed(tmp_path, "few_labels", ten_point_range)
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "out" / "report.md").read_text()
    assert "The spread between seeds is at most 10.0 points" in report


def test_a_rotation_network_whose_probe_peaks_at_layer4_stops_the_generator(tmp_path):
    def peak_at_layer4(probes):
        probes["rotation"]["classes"]["layer4"]["test_acc"] = 0.75     # above its layer2 (70.1%)
    done = generate_with_changed(tmp_path, "depth_probe", peak_at_layer4)
    assert done.returncode != 0 and "depth: the rotation network's class probe peaks at an intermediate stage" in done.stderr


def test_a_freeze_table_whose_lead_does_not_fall_with_the_whole_network_stops_the_generator(tmp_path):
    def lead_kept(freeze):
        freeze["rows"]["all"]["random"]["final_acc"] = 0.70         # the whole network from random: 81.2%
    done = generate_with_changed(tmp_path, "freeze_depth", lead_kept)
    assert done.returncode != 0 and "freeze: the lead stays large while anything is frozen" in done.stderr

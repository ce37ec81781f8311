"""Write report.md, and the results table in README.md, from the files in results/: the text of
tools/report_template.md with its {fields} filled in (standard library only). Each comparative
sentence of the text has a check below; where one no longer holds, nothing is written and the check
is named, so that the sentence is rewritten instead of going out false."""
import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASKS = ("rotation", "layer4_from_rotation", "layer4_from_random", "full_from_rotation", "full_from_random")
SETUPS = TASKS[1:]
NETS = {"random": "random", "rotation": "rotation", "simclr": "SimCLR", "barlow": "Barlow Twins"}
STAGES = ("stem", "layer1", "layer2", "layer3", "layer4")
RECIPES = {"rotation": "all (4 rotations of each image)", "layer4": "layer4+fc", "full": "all"}   # run kind: what trains


pct = lambda x: f"{100 * x:.1f}%"
pts = lambda x: f"{100 * x:+.1f}"     # a difference in accuracy points


def span(values):
    """'82.7% (82.5-82.9)': the mean of several seeds and their range; one value alone as it is."""
    mean = sum(values) / len(values)
    return pct(mean) if len(values) == 1 else f"{pct(mean)} ({100 * min(values):.1f}-{100 * max(values):.1f})"


def joined(items):
    """'20, 100 and 400'."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def table(header, rows):
    return "\n".join("| " + " | ".join(map(str, row)) + " |" for row in [header, ["---"] * len(header), *rows])


def results_table(summary):
    """Tasks 1-3: every accuracy as the mean over seeds with its range (README and report)."""
    rows = [[r["label"], f"**{span([s['final_acc'] for s in r['by_seed']])}**", span([s["best_acc"] for s in r["by_seed"]]),
             span([s["lowest_test_loss_acc"] for s in r["by_seed"]]), f"~{r['expected']}%" if r["expected"] else "–"]
            for r in summary["rows"]]
    return table(["run", "test accuracy, last epoch", "at lowest validation loss", "at lowest test loss",
                  "assignment expects"], rows)


def fill(results):
    read = lambda name: json.loads((Path(results) / f"{name}.json").read_text())
    summary, few, stem, nette = read("summary"), read("few_labels"), read("stem"), read("imagenette")
    contrastive, matched, probe, freeze = read("contrastive"), read("compute_matched"), read("depth_probe"), read("freeze_depth")
    confusion, inside, first = read("rotation_confusion"), read("inside"), read("rotation")
    seeds = {r["name"]: [s["final_acc"] for s in r["by_seed"]] for r in summary["rows"]}
    mean = {name: sum(v) / len(v) for name, v in seeds.items()}
    train = {r["name"]: r["train_acc"] for r in summary["rows"]}
    checks = []
    check = lambda holds, claim: checks.append((bool(holds), claim))
    check(all(r["final_acc"] * 100 > r["expected"] for r in summary["rows"] if r["expected"]),
          "Tasks 1-3: every run is above the accuracy the assignment expects")
    gains = {kind: [a - b for a, b in zip(seeds[f"{kind}_from_rotation"], seeds[f"{kind}_from_random"])] for kind in ("layer4", "full")}
    check(min(gains["layer4"]) > 0 and min(gains["full"]) > 0, "Tasks 2-3: the rotation trunk is ahead of random weights in every seed")
    check(min(gains["layer4"]) > 5 * max(gains["full"]), "Tasks 2-3: the lead with layer4+fc is many times the whole network's")
    check(train["layer4_from_random"] < 0.6 < train["layer4_from_random"] + 0.1 < train["layer4_from_rotation"],
          "Task 2: from random weights, layer4+fc fits the training images poorly, 10 points below the rotation trunk")
    matrix = [[c / sum(row) for c in row] for row in confusion["confusion"]]
    half = sum(matrix[i][(i + 2) % 4] for i in range(4)) / 4
    quarter = sum(matrix[i][(i + d) % 4] for i in range(4) for d in (1, 3)) / 8
    columns = [[s[k] for r in summary["rows"] for s in r["by_seed"]] for k in ("final_acc", "best_acc", "lowest_test_loss_acc")]
    column_gap = max(abs(a - b) for col in columns[1:] for a, b in zip(columns[0], col))
    check(half > quarter, "Task 1: a half turn is mistaken more often than a quarter turn")
    by_class = sorted(confusion["accuracy_by_class"].items(), key=lambda kv: kv[1])
    counts = few["config"]["per_class"]
    curve = lambda setup: [span([s["final_acc"] for s in p["by_seed"]]) for p in few["curves"][setup]]
    worst_best = [min(s["final_acc"] for s in a["by_seed"]) - max(s["final_acc"] for s in b["by_seed"])
                  for a, b in zip(few["curves"]["full_from_rotation"], few["curves"]["full_from_random"])]
    check(min(worst_best) > 0, "few labels: at every count the whole network's worst seed from rotation beats its best seed from random weights")
    leads = [a["final_acc"] - b["final_acc"] for a, b in zip(few["curves"]["full_from_rotation"], few["curves"]["full_from_random"])]
    check(leads[-1] == min(leads), "few labels: the whole network's lead is smallest with every label")
    at = {p["per_class"]: p["final_acc"] for p in few["curves"]["full_from_random"]}
    check(at[500] < at[400] and 500 in counts, "few labels: random weights score lower at 500 per class than at 400")
    ranges = [p["final_max"] - p["final_min"] for c in few["curves"].values() for p in c]
    ref = few["reference"]
    paper = {name: dict(zip(ref["per_class"], ys)) for name, ys in ref["curves"].items()}
    ours = {setup: {p["per_class"]: p["final_acc"] for p in few["curves"][setup]} for setup in ("full_from_random", "layer4_from_rotation")}
    shared = [n for n in ref["per_class"] if n in ours["full_from_random"]]
    below = lambda setup, name, ns: [paper[name][n] - 100 * ours[setup][n] for n in ns]
    supervised_gap = below("full_from_random", "paper: supervised (NIN)", [n for n in shared if n >= 400])
    frozen_gap = below("layer4_from_rotation", "paper: RotNet + conv (NIN)", shared)
    check(min(below("full_from_random", "paper: supervised (NIN)", shared) + frozen_gap) > 0,
          "few labels: our curves lie below the paper's at every count both share")
    few_rows = [[n, f"{p['images_per_epoch']:,}", *(c[i] for c in map(curve, SETUPS))]
                for i, (n, p) in enumerate(zip(counts, few["curves"]["full_from_rotation"]))]
    check(all(stem["config"][f"stem_{k}"] == summary["config"][k] for k in ("rotation", "layer4", "full")),
          "stem: its runs train with the configurations of Tasks 1-3")
    stem_rows = [[n, pct(r["stock"]["final_acc"]), pct(r["3x3"]["final_acc"]), pts(r["3x3"]["final_acc"] - r["stock"]["final_acc"])]
                 for n, r in stem["rows"].items()]
    check(all(r["3x3"]["final_acc"] > r["stock"]["final_acc"] for r in stem["rows"].values()), "stem: the 3x3 stem is ahead in all five runs")
    stem_gain = {(k, s): stem["rows"][f"{k}_from_rotation"][s]["final_acc"] - stem["rows"][f"{k}_from_random"][s]["final_acc"]
                 for k in ("layer4", "full") for s in ("stock", "3x3")}
    check(stem_gain["layer4", "3x3"] > stem_gain["layer4", "stock"] and stem_gain["full", "3x3"] < stem_gain["full", "stock"],
          "stem: the rotation trunk's lead grows with the 3x3 stem for layer4+fc and shrinks for the whole network")
    nr = nette["rows"]
    check(all(nr[f"{k}_from_rotation"]["final_acc"] > nr[f"{k}_from_random"]["final_acc"] for k in ("layer4", "full")),
          "Imagenette: rotation beats random in both transfers")
    acc = lambda net, stage, task="classes": probe[net][task][stage]["test_acc"]
    best_stage = {net: max(STAGES, key=lambda s: acc(net, s)) for net in ("rotation", "simclr")}
    check(best_stage["rotation"] not in ("stem", "layer4"), "depth: the rotation network's class probe peaks at an intermediate stage")
    check(all(acc("rotation", a, "rotation") < acc("rotation", b, "rotation") for a, b in zip(STAGES, STAGES[1:])),
          "depth: the rotation network's rotation probe improves with every stage")
    check(abs(acc("rotation", best_stage["rotation"]) - acc("simclr", best_stage["simclr"])) < 0.01,
          "depth: rotation's and SimCLR's best stages are level (within a point)")
    fr = freeze["rows"]
    lead = {scope: r["rotation"]["final_acc"] - r["random"]["final_acc"] for scope, r in fr.items()}
    check(min(v for s, v in lead.items() if s != "all") > 3 * lead["all"], "freeze: the lead stays large while anything is frozen")
    cm = {r["run"]: r for r in matched["rows"].values()}
    check(cm["full_matched_from_random"]["final_acc"] > cm["full_from_rotation"]["final_acc"],
          "compute: with the same compute, random weights are ahead of the rotation start")
    rows = contrastive["rows"]
    for kind, method in ((k, m) for k in ("layer4", "full") for m in ("simclr", "barlow")):
        run, stock = read(f"{kind}_from_{method}"), read(f"{kind}_from_rotation")
        check(all(run[k] == stock[k] for k in ("config", "scope", "n_train", "n_val")),
              f"contrastive: {kind}_from_{method} trains with the configuration and images of {kind}_from_rotation")
    tuned = [k for k in rows if "labels/class" in k]
    simclr_gaps = [abs(rows[k]["simclr"] - rows[k]["rotation"]) for k in tuned]
    check(max(simclr_gaps) < max(ranges), "contrastive: SimCLR and rotation fine-tuned differ by less than the widest spread between seeds")
    check(all(rows[k]["barlow"] < min(rows[k]["rotation"], rows[k]["simclr"]) for k in tuned),
          "contrastive: Barlow Twins is behind rotation and SimCLR in every fine-tuning row")
    knn = rows["kNN (k = 200)"]
    check(min(knn["simclr"] - knn["rotation"], acc("simclr", "layer4") - acc("rotation", "layer4")) > 0.03,
          "contrastive: SimCLR's frozen features beat rotation's")
    c_rows = [["kNN (k = 200), final features", *(pct(knn[n]) for n in NETS)],
              ["linear probe, after layer4", *(pct(acc(n, "layer4")) for n in NETS)],
              ["linear probe, best stage", *(f"{pct(max(acc(n, s) for s in STAGES))} ({max(STAGES, key=lambda s: acc(n, s))})" for n in NETS)],
              *([k.replace("labels/class", "labels per class"), *(pct(rows[k][n]) for n in NETS)]
                for k in tuned if k.split(", ")[1].split()[0] in ("20", "100", "4500"))]
    check(inside["networks"]["supervised"]["knn_acc"] > inside["networks"]["rotation"]["knn_acc"] + 0.2,
          "inside: the supervised network's neighbours share the class far more often")
    false = [claim for holds, claim in checks if not holds]
    if false:
        sys.exit("a claim of the report no longer holds, rewrite its sentence:\n  " + "\n  ".join(false))
    count = lambda key: f"{first[key]:,}"
    frac = lambda pair: pct(cm[pair]["final_acc"])
    return summary, {
        "n_train": count("n_train"), "n_val": count("n_val"), "n_test": count("n_test"), "n_seeds": len(summary["seeds"]),
        "seeds": ", ".join(map(str, summary["seeds"])), "tasks_table": results_table(summary), "rot": pct(mean["rotation"]),
        "column_gap": f"{100 * column_gap:.1f}", "half": pct(half), "quarter": pct(quarter),
        **{name: ", ".join(f"{c} ({pct(a)})" for c, a in part) for name, part in (("hardest", by_class[:3]), ("easiest", by_class[-3:]))},
        **{f"{k}_{i}": pct(mean[f"{k}_from_{i}"]) for k in ("layer4", "full") for i in ("rotation", "random")},
        **{f"{k}_gains": joined(pts(g) for g in gains[k]) for k in gains}, "train_random": pct(train["layer4_from_random"]),
        "train_rotation": pct(train["layer4_from_rotation"]), "probe_l3_rot": pct(acc("rotation", "layer3")),
        "probe_l3_rand": pct(acc("random", "layer3")), "freeze_all": pts(lead["all"]),
        "freeze_leads": joined([pts(v) for s, v in lead.items() if s != "all"]), "matched": frac("full_matched_from_random"),
        "matched_epochs": cm["full_matched_from_random"]["epochs"], "matched_rot": frac("full_from_rotation"),
        "matched_rand": frac("full_from_random"), "min_epoch": f"{few['config']['min_epoch_images']:,}",
        "few_table": table(["labelled per class", "images per epoch", *(s.replace("_from_", " from ") for s in SETUPS)], few_rows),
        "few_leads": joined(pts(v) for v in leads), "counts": joined(counts), "widest": f"{100 * max(ranges):.1f}",
        "sup_gap": f"{min(supervised_gap):.0f} to {max(supervised_gap):.0f}", "frozen_gap": f"{min(frozen_gap):.0f} to {max(frozen_gap):.0f}",
        "shared_counts": joined(shared), "sup_counts": joined([n for n in shared if n >= 400]),
        "stem_table": table(["run", "stock ResNet18", "3x3 stem", "difference"], stem_rows),
        "cost": f"{stem['multiply_adds']['3x3'] / stem['multiply_adds']['stock']:.1f}", **{f"stem_{k}_{s}": pts(v) for (k, s), v in stem_gain.items()},
        "nette_table": table(["run", "epochs", "test accuracy, last epoch"], [[n, r["epochs"], pct(r["final_acc"])] for n, r in nr.items()]),
        "nette_n": f"{nette['n_train']:,}", "nette_test": f"{nette['n_test']:,}", "nette_size": nette["size"],
        **{f"nette_{k}": pts(nr[f"{k}_from_rotation"]["final_acc"] - nr[f"{k}_from_random"]["final_acc"]) for k in ("layer4", "full")},
        "contrastive_table": table(["test accuracy, seed 0", *NETS.values()], c_rows), "simclr_gap": f"{100 * max(simclr_gaps):.1f}",
        "epochs_c": contrastive["config"]["simclr"]["epochs"], "rot_l4": pct(acc("rotation", "layer4")),
        **{f"best_{n}": f"{pct(acc(n, best_stage[n]))} after {best_stage[n]}" for n in best_stage},
        "rot_task_l4": pct(acc("rotation", "layer4", "rotation")), "rot_task_stem": pct(acc("rotation", "stem", "rotation")),
        **{f"knn20_{n}": pct(inside["networks"][n]["knn_acc"]) for n in ("supervised", "rotation")},
        "recipe_table": table(["run", "trained", "epochs", "batch", "lr", "weight decay", "warm-up epochs"],
                              [[k, trained, c["epochs"], c["batch_size"], c["lr"], c["weight_decay"], c["warmup_epochs"]]
                               for k, trained in RECIPES.items() for c in [summary["config"][k]]])}

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("results", "results"), ("report", "report.md"), ("readme", "README.md")):
        parser.add_argument(f"--{name}", type=Path, default=ROOT / default)
    args = parser.parse_args(argv)
    summary, fields = fill(args.results)
    args.report.write_text((ROOT / "tools" / "report_template.md").read_text().format(**fields))
    pattern = re.compile(r"(<!-- results-table[^>]*-->\n).*?(\n<!-- /results-table -->)", re.S)
    if not pattern.search(readme := args.readme.read_text()):
        sys.exit("README.md has no <!-- results-table --> ... <!-- /results-table --> markers")
    args.readme.write_text(pattern.sub(lambda m: m.group(1) + results_table(summary) + m.group(2), readme))
    print(f"wrote {args.report} and the results table of {args.readme}")


if __name__ == "__main__":
    main()

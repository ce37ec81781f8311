"""Write report.md, and the results table in README.md, from the files in results/.

    python tools/make_report.py [--results results] [--report report.md] [--readme README.md]

The text is tools/report_template.md; this script fills in its tables and numbers from the results
files (standard library only). Every comparative claim the text makes is checked below against the
same numbers: where one no longer holds, the script stops and names it instead of writing a false
sentence, and the text is to be rewritten.
"""
import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A student report for this assignment that comes with the assignment materials (20 fine-tuning
# epochs per run); quoted for comparison, not measured here.
PEER = {"rotation": 77.93, "layer4_from_rotation": 49.44, "layer4_from_random": 45.82,
        "full_from_rotation": 67.94, "full_from_random": 77.10}
SETUPS = ("layer4_from_rotation", "layer4_from_random", "full_from_rotation", "full_from_random")
RUNS = ("rotation", *SETUPS)
ROTATIONS = ("0°", "90°", "180°", "270°")
METHOD_NAMES = {"simclr": "SimCLR", "barlow": "Barlow Twins"}   # section 14's pre-training methods
# Run kinds of the preset, each with the run of Tasks 1-3 whose recipe the stem's runs (and, for layer4 and
# full, section 14's fine-tuning runs) must share.
STOCK_RUN_OF_KIND = {"rotation": "rotation", "layer4": "layer4_from_rotation", "full": "full_from_rotation"}


def pct(x):
    return f"{100 * x:.1f}"


def signed(gap):
    """An accuracy difference in points, with its sign."""
    return f"{100 * gap:+.1f}"


def points(a, b):
    """a - b in accuracy points, signed."""
    return signed(a - b)


def possessive(name):
    """SimCLR's, Barlow Twins'."""
    return name + ("'" if name.endswith("s") else "'s")


def table(header, rows):
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


class Claims:
    """The comparative claims of the text, each with the condition that makes it true."""

    def __init__(self):
        self.false = []

    def check(self, holds, claim):
        if not holds:
            self.false.append(claim)

    def verify(self):
        if self.false:
            raise SystemExit("report.md not written: the text claims what the results no longer show:\n  "
                             + "\n  ".join(self.false) + "\nrewrite tools/report_template.md")


def read(results, name):
    path = results / f"{name}.json"
    if not path.is_file():
        raise SystemExit(f"no {path}: execute A4.ipynb (and the benchmarks, see docs/reproducing.md) first")
    return json.loads(path.read_text())


def mean_and_range(values):
    """'83.2%' for one value; '83.2% (82.9-83.5)' for several: their mean and range."""
    mean = f"{pct(sum(values) / len(values))}%"
    return mean if len(values) == 1 else f"{mean} ({pct(min(values))}-{pct(max(values))})"


def results_table(summary):
    """Tasks 1-3: with one seed each accuracy at its epoch; with several, the mean and range."""
    one = len(summary["seeds"]) == 1

    def column(row, key, epoch_key):
        seeds = row["by_seed"]
        return f"{pct(seeds[0][key])}% ({seeds[0][epoch_key]})" if one else mean_and_range([s[key] for s in seeds])
    rows = [[r["label"], f"**{mean_and_range([s['final_acc'] for s in r['by_seed']])}**",
             column(r, "best_acc", "best_epoch"), column(r, "lowest_test_loss_acc", "lowest_test_loss_epoch"),
             f"~{r['expected']}%" if r["expected"] else "–", f"{PEER[r['name']]:.2f}%",
             f"{r['train_minutes']:.1f}"] for r in summary["rows"]]
    epoch = " (epoch)" if one else ""
    return table(["run", "test accuracy, last epoch", f"at lowest validation loss{epoch}", f"at lowest test loss{epoch}",
                  "assignment expects", "peer report", "training minutes" + ("" if one else " (mean)")], rows)


def seeds_note(summary):
    """The sentence under the results table that says how many seeds each figure is."""
    seeds = summary["seeds"]
    if len(seeds) == 1:
        return "One seed per run."
    return (f"Every run was trained with seeds {', '.join(map(str, seeds))}: each figure is their mean, with "
            "the range in brackets.")


def tasks_gap_part(summary, rows, claims):
    """Tasks 2-3: the rotation trunk's gains over random weights, seed by seed (`rows`: the summary's
    rows by run name)."""
    gains = {kind: [a["final_acc"] - b["final_acc"] for a, b in zip(rows[f"{kind}_from_rotation"]["by_seed"],
                                                                    rows[f"{kind}_from_random"]["by_seed"])]
             for kind in ("layer4", "full")}
    if len(summary["seeds"]) == 1:
        return "One seed each: how much of the whole-network gap would survive other seeds is not measured."
    claims.check(all(g > 0 for gs in gains.values() for g in gs),
                 "Tasks 2-3: the rotation trunk is ahead of random weights in every seed")
    return (f"The rotation trunk is ahead in every seed: by {', '.join(map(signed, gains['layer4']))} points with "
            f"`layer4`+`fc` and by {', '.join(map(signed, gains['full']))} with the whole network (seeds "
            f"{', '.join(map(str, summary['seeds']))}).")


def config_table(runs):
    keys = ["epochs", "batch_size", "lr", "momentum", "weight_decay", "warmup_epochs", "augment"]
    rows = [[name, runs[name]["scope"], *(runs[name]["config"][k] for k in keys)] for name in RUNS]
    return table(["run", "trained", *(k.replace("_", " ") for k in keys)], rows)


def few_part(few, claims):
    curves, counts = few["curves"], [p["per_class"] for p in few["curves"]["full_from_rotation"]]
    acc = {s: [p["final_acc"] for p in curves[s]] for s in SETUPS}
    rows = [[n, f"{curves['full_from_rotation'][i]['images_per_epoch']:,}",
             *(mean_and_range([r["final_acc"] for r in curves[s][i]["by_seed"]]) for s in SETUPS),
             points(acc["full_from_rotation"][i], acc["full_from_random"][i])] for i, n in enumerate(counts)]
    few_table = table(["labelled per class", "images per epoch", *(s.replace("_", " ") for s in SETUPS),
                       "whole net: rotation - random"], rows)
    full_gaps = [a - b for a, b in zip(acc["full_from_rotation"], acc["full_from_random"])]
    layer4_gaps = [a - b for a, b in zip(acc["layer4_from_rotation"], acc["full_from_random"])]
    claims.check(all(g > 0 for g in full_gaps), "few labels: whole net from rotation beats it from random at every count")
    peak = max(range(len(counts)), key=lambda i: full_gaps[i])
    claims.check(min(full_gaps) == full_gaps[-1], "few labels: the whole-net lead is smallest with every label")
    budget_note = ""
    if 400 in counts and 500 in counts:
        at = {n: i for i, n in enumerate(counts)}
        per_epoch = {n: curves["full_from_rotation"][at[n]]["images_per_epoch"] for n in (400, 500)}
        claims.check(per_epoch[500] < per_epoch[400], "few labels: an epoch at 500 per class holds fewer images than at 400")
        claims.check(all(acc[s][at[500]] < acc[s][at[400]] for s in ("full_from_random", "layer4_from_random"))
                     and all(acc[s][at[500]] > acc[s][at[400]] for s in ("full_from_rotation", "layer4_from_rotation")),
                     "few labels: from 400 to 500 per class random weights lose, the rotation trunk gains")
        budget_note = (f" At 500 per class an epoch is the labelled subset once ({per_epoch[500]:,} images), at 400 per "
                       f"class twice ({per_epoch[400]:,}), so that point trains on fewer images than the one below it; "
                       "there random weights score less than at 400 per class, in both set-ups, and the rotation trunk more.")
    wins = [g > 0 for g in layer4_gaps]
    claims.check(wins[0] and not wins[-1] and wins == sorted(wins, reverse=True),
                 "few labels: layer4+fc from rotation beats whole net from random up to some count, loses above")
    return {"few_table": few_table, "min_epoch_images": few["config"]["min_epoch_images"],
            "few_counts": ", ".join(map(str, counts)),
            "few_full_gaps": ", ".join(map(signed, full_gaps)), "few_full_peak": counts[peak],
            "few_budget_note": budget_note,
            "few_layer4_gaps": ", ".join(map(signed, layer4_gaps)),
            "layer4_wins_up_to": counts[sum(wins) - 1]}


def few_seed_ranges(few):
    """{(setup, labelled per class): max - min of its test accuracy over section 10's seeds}."""
    return {(setup, p["per_class"]): p["final_max"] - p["final_min"] for setup, ps in few["curves"].items() for p in ps}


def seeds_part(few, claims):
    """Extra credit 1: what its seeds are, how far they spread, and whether the whole network's lead
    of rotation over random weights outlasts that spread at every count."""
    if len(few["seeds"]) == 1:
        return "One seed per point: how far other subsets and initialisations would move them is not measured."
    ranges = few_seed_ranges(few)
    (setup, count), widest = max(ranges.items(), key=lambda item: item[1])
    by_seed = {s: [[r["final_acc"] for r in p["by_seed"]] for p in few["curves"][s]] for s in ("full_from_rotation", "full_from_random")}
    margins = [min(rot) - max(rand) for rot, rand in zip(by_seed["full_from_rotation"], by_seed["full_from_random"])]
    claims.check(all(m > 0 for m in margins), "few labels: at every count the whole network's worst seed from rotation "
                 "beats its best seed from random weights")
    return (f"Each point is the mean over seeds {', '.join(map(str, few['seeds']))} (each seed draws another balanced "
            f"subset, initialisation and data order), with the range in brackets. The widest range is "
            f"{pct(widest)} points ({setup.replace('_', ' ')}, {count} per class). The whole network's worst seed from "
            f"rotation is ahead of its best seed from random weights at every count, by "
            f"{', '.join(pct(m) for m in margins)} points at "
            f"{', '.join(str(p['per_class']) for p in few['curves']['full_from_rotation'])} per class.")


def stem_part(stem, runs, claims):
    rows, gaps = [], []
    for name, pair in stem["rows"].items():
        stock, wide = pair["stock"], pair["3x3"]
        gaps.append(wide["final_acc"] - stock["final_acc"])
        rows.append([name, wide["epochs"], f"{pct(stock['final_acc'])}%", f"**{pct(wide['final_acc'])}%**",
                     f"{stock['train_minutes']:.1f} ({stock['images_per_s']:.0f})",
                     f"{wide['train_minutes']:.1f} ({wide['images_per_s']:.0f})"])
    claims.check(all(g > 0 for g in gaps), "stem: the 3x3 stem is ahead of the stock network in all five runs")
    wide = {name: pair["3x3"]["final_acc"] for name, pair in stem["rows"].items()}
    layer4_gap, full_gap = (wide[f"{k}_from_rotation"] - wide[f"{k}_from_random"] for k in ("layer4", "full"))
    claims.check(layer4_gap > full_gap > 0, "stem: the rotation trunk helps the 3x3 stem in both transfers, "
                 "by less with the whole network trained")
    cfg = stem["config"]
    for kind, stock_name in STOCK_RUN_OF_KIND.items():
        claims.check(cfg[f"stem_{kind}"] == runs[stock_name]["config"],
                     f"stem: stem_{kind} trains with the configuration of {stock_name}")
    for name, run in stem["runs"].items():
        claims.check((run["n_train"], run["n_val"]) == (runs["rotation"]["n_train"], runs["rotation"]["n_val"]),
                     f"stem: {name} trains and validates on the images of Tasks 1-3")
    return {"stem_table": table(["run", "epochs", "stock: test acc, last epoch", "3x3 stem",
                                 "stock: training min (images/s)", "3x3 stem: training min (images/s)"], rows),
            "stem_cost": stem["multiply_adds"]["3x3"] / stem["multiply_adds"]["stock"],
            "stem_gaps": ", ".join(map(signed, gaps)),
            "stem_layer4_gap": signed(layer4_gap), "stem_full_gap": signed(full_gap)}


def nette_part(nette, claims):
    acc = {name: row["final_acc"] for name, row in nette["rows"].items()}
    rows = [[name, r["epochs"], f"**{pct(r['final_acc'])}%**", f"{pct(r['best_acc'])}% ({r['best_epoch']})",
             f"{r['train_minutes']:.1f}"] for name, r in nette["rows"].items()]
    gaps = {k: acc[f"{k}_from_rotation"] - acc[f"{k}_from_random"] for k in ("layer4", "full")}
    claims.check(gaps["layer4"] > 0 and gaps["full"] > 0, "Imagenette: rotation beats random in both transfers")
    return {"nette_table": table(["run", "epochs", "test accuracy, last epoch", "test accuracy at lowest validation loss (epoch)",
                                  "training minutes"], rows),
            "nette_size": nette["size"], "nette_train": nette["n_train"], "nette_val": nette["n_val"],
            "nette_test": nette["n_test"], "nette_layer4_gap": signed(gaps["layer4"]),
            "nette_full_gap": signed(gaps["full"])}


def inside_part(inside, claims):
    nets = inside["networks"]
    rows = [[f"{net} ({n['run']})", f"{pct(n['test_acc'])}%", f"**{pct(n['knn_acc'])}%**",
             f"{n['neighbours_same_class']} of 50", f"{n['conv1_colour_share_median']:.2f}"] for net, n in nets.items()]
    sup, rot = nets["supervised"], nets["rotation"]
    claims.check(sup["knn_acc"] > rot["knn_acc"], "inside: the supervised features classify by kNN better than the rotation ones")
    claims.check(rot["knn_acc"] > 0.1, "inside: the rotation features classify by kNN above chance")
    return {"inside_table": table(["network", "test accuracy, own task", "kNN accuracy of its features (k = 20)",
                                   "neighbours of the query's class", "conv1 colour share (median)"], rows),
            "sup_knn": pct(sup["knn_acc"]), "rot_knn": pct(rot["knn_acc"]),
            "knn_train": inside["knn"]["train"], "knn_test": inside["knn"]["test"]}


def compute_part(compute, rows_by_name, claims):
    """Section 15: the whole network from random weights given the images of Tasks 1 and 3 together
    (`rows_by_name`: the summary's rows, for Task 3's spread between seeds)."""
    rows = compute["rows"]
    by_run = {r["run"]: r for r in rows.values()}
    rotation, task3, matched = (by_run[name] for name in ("full_from_rotation", "full_from_random", "full_matched_from_random"))
    claims.check(matched["image_passes"] == rotation["image_passes"] and matched["epochs"] > task3["epochs"],
                 "compute: the matched run put as many images through the network as Tasks 1 and 3 together")
    claims.check(matched["final_acc"] > task3["final_acc"], "compute: random weights gain from the extra epochs")
    claims.check(matched["final_acc"] > rotation["final_acc"],
                 "compute: with the same compute, random weights are ahead of the rotation start")
    accs_by_seed = [[s["final_acc"] for s in rows_by_name[name]["by_seed"]] for name in ("full_from_rotation", "full_from_random")]
    spreads = [max(accs) - min(accs) for accs in accs_by_seed]
    if len(accs_by_seed[0]) == 1:
        seeds_sentence = "One seed: how far this moves between seeds is not measured."
    else:
        claims.check(matched["final_acc"] - rotation["final_acc"] > max(spreads),
                     "compute: the matched run's lead is larger than Task 3's spread between seeds")
        seeds_sentence = (f"One seed, but a lead larger than either Task 3 run moved between seeds "
                          f"({', '.join(f'{100 * spread:.1f}' for spread in spreads)} points).")
    table_rows = [[name, r["epochs"], f"{r['image_passes'] / 1e6:.2f} M", f"**{pct(r['final_acc'])}%**",
                   f"{pct(r['best_acc'])}% ({r['best_epoch']})", f"{r['train_minutes']:.1f}"] for name, r in rows.items()]
    return {"compute_table": table(["whole network", "epochs", "images through the network", "test accuracy, last epoch",
                                    "at lowest validation loss (epoch)", "training minutes"], table_rows),
            "matched_epochs": matched["epochs"], "task3_epochs": task3["epochs"],
            "rotation_epochs": compute["config"]["rotation"]["epochs"],
            "pretrain_as_task3_epochs": matched["epochs"] - task3["epochs"], "matched_acc": pct(matched["final_acc"]),
            "matched_over_rotation": points(matched["final_acc"], rotation["final_acc"]),
            "matched_over_task3": points(matched["final_acc"], task3["final_acc"]),
            "compute_passes": f"{matched['image_passes'] / 1e6:.2f}", "compute_seeds": seeds_sentence}


# The ImageNet-transfer report in the course materials (its figures, quoted, not measured here): ResNet18
# at 224 px, trained from scratch on 5,000 CIFAR-10 images, and ImageNet weights frozen up to layer1
# (its "Model A") or up to avgpool (its "Model B", a new head alone), each with an MLP head.
TRANSFER_REPORT = {"scratch_5000": 72.8, "imagenet_layer2_up": 79.1, "imagenet_head_only": 49.1}


def depth_part(probes, freeze, few, claims):
    """Section 16: the probe at every depth (`probes`: results/depth_probe.json), the freeze-depth
    table, and the 500-per-class point of Extra credit 1 beside the transfer report's figure."""
    stages = list(probes["rotation"]["classes"])           # stem, layer1 ... layer4, as the notebook wrote them
    acc = lambda by_stage: [by_stage[s]["test_acc"] for s in stages]
    row = lambda accs: [f"**{pct(a)}%**" if a == max(accs) else f"{pct(a)}%" for a in accs]
    probe_rows = [[name, *row(acc(p["classes"]))] for name, p in probes.items()]
    turns = acc(probes["rotation"]["rotation"])             # the rotation network, predicting the rotation
    probe_rows.append(["rotation network, predicting the rotation", *row(turns)])
    rot, sup, rand = (acc(probes[name]["classes"]) for name in ("rotation", "supervised", "random"))
    peak = max(range(len(stages)), key=lambda i: rot[i])
    claims.check(0 < peak < len(stages) - 1, "depth: the rotation network's class probe peaks at an intermediate stage")
    claims.check(turns == sorted(turns), "depth: the rotation probe rises with depth")
    claims.check(rand == sorted(rand, reverse=True), "depth: the random network's probe falls with depth")
    claims.check(all(r > q for r, q in zip(rot, rand)), "depth: the rotation network is above random weights at every depth")
    rows, gaps = freeze["rows"], {}
    freeze_rows = []
    for scope, pair in rows.items():
        gaps[scope] = pair["rotation"]["final_acc"] - pair["random"]["final_acc"]
        freeze_rows.append([scope, f"{freeze['trained_parameters'][scope]:,}", f"{pct(pair['rotation']['final_acc'])}%",
                            f"{pct(pair['random']['final_acc'])}%", signed(gaps[scope])])
    claims.check(all(g > 0 for g in gaps.values()), "freeze: the rotation trunk is ahead at every depth")
    *partial, whole = gaps.values()
    claims.check(min(partial) > 3 * whole > 0, "freeze: the lead stays large while anything is frozen, and falls "
                 "only when the whole network trains")
    claims.check(sup == sorted(sup), "depth: the supervised probe rises with every stage")
    curves = few["curves"]
    point = {setup: next(p for p in curves[setup] if p["per_class"] == 500) for setup in SETUPS}
    return {"probe_table": table(["test accuracy", *(f"after {s}" for s in stages)], probe_rows),
            "freeze_table": table(["trained (the rest frozen)", "parameters trained", "from rotation", "from random weights",
                                   "rotation - random"], freeze_rows),
            "freeze_epochs": freeze["recipe"]["epochs"], "freeze_lr": freeze["recipe"]["lr"],
            "rot_peak_stage": stages[peak], "rot_peak": pct(rot[peak]), "rot_layer4": pct(rot[-1]),
            "rot_drop": pct(rot[peak] - rot[-1]), "rot_rotation_stem": pct(turns[0]),
            "rot_rotation_layer4": pct(turns[-1]), "sup_layer4": pct(sup[-1]), "sup_stem": pct(sup[0]),
            "rand_stem": pct(rand[0]), "rand_layer4": pct(rand[-1]),
            "rot_layer3": pct(rot[stages.index("layer3")]), "rand_layer3": pct(rand[stages.index("layer3")]),
            "freeze_gaps": ", ".join(map(signed, gaps.values())), "freeze_scopes": ", ".join(f"`{s}`" for s in gaps),
            "freeze_fc_rot": pct(rows["fc"]["rotation"]["final_acc"]),
            "freeze_l2_rot": pct(rows["layer2..fc"]["rotation"]["final_acc"]), "freeze_all_gap": pct(whole),
            **{f"few500_{s}": mean_and_range([r["final_acc"] for r in point[s]["by_seed"]]) for s in SETUPS},
            **{f"transfer_{k}": v for k, v in TRANSFER_REPORT.items()}}


def confusion_part(confusion, claims):
    counts = confusion["confusion"]
    share = [[c / sum(row) for c in row] for row in counts]
    quarter = sum(share[i][(i + 1) % 4] + share[i][(i + 3) % 4] for i in range(4)) / 8
    half = sum(share[i][(i + 2) % 4] for i in range(4)) / 4
    claims.check(half > quarter, "Task 1: a half turn is mistaken more often than either quarter turn")
    by_class = sorted(confusion["accuracy_by_class"].items(), key=lambda kv: kv[1])
    named = lambda items: ", ".join(f"{name} ({pct(acc)}%)" for name, acc in items)
    rows = [[ROTATIONS[i], *(f"{pct(s)}%" for s in share[i])] for i in range(4)]
    return {"confusion_table": table(["true ↓ / predicted →", *ROTATIONS], rows), "half_turn": pct(half),
            "quarter_turn": pct(quarter), "hardest_classes": named(by_class[:3]),
            "easiest_classes": named(by_class[::-1][:3])}


def machine_text(record):
    """'AMD EPYC, 2 threads, torch 2.15.0' from a benchmark's results file."""
    machine = record["machine"]
    return f"{machine['cpu']}, {machine['threads']} threads, torch {machine['torch']}"


def speed_part(benchmark, precision, levers):
    rows = [[kind, f"{r['starter']['images_per_s']:.0f}", f"{r['ours']['images_per_s']:.0f}", f"{r['speed-up']:.2f}x"]
            for kind, r in benchmark["results"].items()]
    runs = list(precision["runs"].values())
    return {"speed_table": table(["training", "starter-style images/s", "ours images/s", "speed-up"], rows),
            "benchmark_command": benchmark["command"],
            "benchmark_machine": machine_text(benchmark),
            "precision_command": precision["command"], "bf16_acc": pct(runs[0]["final_test_acc"]),
            "fp32_acc": pct(runs[1]["final_test_acc"]),
            "precision_speedup": runs[0]["mean_images_per_s"] / runs[1]["mean_images_per_s"],
            "levers_command": levers["command"],
            "levers_ratios": " and ".join(f"{r['relative_to_starter']:.2f}x" for path, r in levers["results"].items()
                                          if path.startswith(levers["notebook_path"])),
            "fast_over_stock": levers["results"][levers["notebook_path"]]["relative_to_stock_path"]}


def time_to_accuracy_part(race):
    """benchmarks/time_to_accuracy.py: every finished repeat's minutes to the target rotation accuracy."""
    cap = race["cap_minutes"]

    def minutes(run):
        if run["reached"]:
            return f"{run['minutes']:.1f} (epoch {run['epochs']})"
        best = pct(max(epoch["test_acc"] for epoch in run["history"]))
        if run["history"][-1]["train_seconds"] >= 60 * cap:
            return f"> {cap:g} (best {best}% in {run['epochs']} epochs)"
        return f"not reached in its {run['epochs']} epochs (best {best}%)"

    finished = [repeat for repeat in race["repeats"] if set(repeat) == {"starter", "ours"}]
    if not finished:
        raise SystemExit("results/time_to_accuracy.json holds no finished repeat: run benchmarks/time_to_accuracy.py")
    rows = [[str(i + 1), minutes(r["starter"]), minutes(r["ours"])] for i, r in enumerate(finished)]
    first = sum(r["ours"]["reached"] and (not r["starter"]["reached"] or r["ours"]["minutes"] < r["starter"]["minutes"])
                for r in finished)
    stopped = "" if race["complete"] else f" The benchmark was stopped after {len(finished)} of the {race['repeats_asked']} repeats it was asked for."
    return {"tta_target": pct(race["target"]), "tta_command": race["command"],
            "tta_table": table(["repeat", "starter-style: training minutes", "ours: training minutes"], rows),
            "tta_machine": machine_text(race),
            "tta_summary": f"The notebook's recipe got there first in {first} of {len(finished)} repeats.{stopped}"}


def presets_part(presets, claims):
    """benchmarks/presets.py: Part I from a fresh start, every seed it ran of the quick preset, then
    the real preset's (one seed)."""
    by_preset = {name: sorted((e for e in presets["executions"] if e["preset"] == name), key=lambda e: e["seed"])
                 for name in ("quick", "real")}
    quick = by_preset["quick"]
    if not quick:
        raise SystemExit("results/presets.json holds no execution of the quick preset: run benchmarks/presets.py")
    rows = [[f"`{e['preset']}`", str(e["seed"]), f"{e['wall_minutes']:.1f}",
             *(f"{pct(e['final_test_acc'][n])}%" for n in RUNS), "yes" if e["all_met"] else "**no**"]
            for e in quick + by_preset["real"]]
    claims.check(all(e["all_met"] for e in quick), "Speed: every seed of the quick preset meets the accuracies the assignment expects")
    commands = [f"`{runs[-1]['command']}` ({machine_text(runs[-1])})" for runs in by_preset.values() if runs]
    return {"presets_table": table(["preset", "seed", "minutes to the summary", "rotation", "layer4+fc from rotation",
                                  "layer4+fc from random", "whole net from rotation", "whole net from random",
                                  "all above the expected"], rows),
            "presets_commands": "; ".join(commands),
            "quick_max_minutes": f"{max(e['wall_minutes'] for e in quick):.1f}",
            "quick_seeds": len(quick)}


def contrastive_part(contrastive, few, results, runs, claims):
    """Section 14: every starting point under every use of its weights, the pre-training runs, and
    the whole network fine-tuned from each new starting point (the SimCLR assignment's figures)."""
    values = contrastive["rows"]
    inits = list(next(iter(values.values())))
    methods = [m for m in METHOD_NAMES if m in inits and m in contrastive["pretraining"]]
    rows = [[row, *(f"**{pct(v[i])}%**" if contrastive["winner"][row] == i else f"{pct(v[i])}%" for i in inits)]
            for row, v in values.items()]
    pre_rows = []
    for m in methods:
        run = contrastive["pretraining"][m]
        cfg, objective = run["config"], run["objective"]
        setting = f"temperature {objective['setting']:g}" if m == "simclr" else f"lambda {objective['setting']:g}"
        pre_rows.append([METHOD_NAMES[m], cfg["epochs"], cfg["batch_size"], cfg["lr"], setting,
                         "-".join(map(str, [512, *objective["head"]])), f"{pct(run['final']['test_acc'])}%",
                         f"{run['train_seconds'] / 60:.1f}"])
    fine = {m: {k: read(results, f"{k}_from_{m}") for k in ("layer4", "full")} for m in methods}
    for m in methods:
        for kind, run in fine[m].items():
            stock = STOCK_RUN_OF_KIND[kind]
            claims.check(run["config"] == runs[stock]["config"] and run["n_train"] == runs[stock]["n_train"],
                         f"contrastive: {kind}_from_{m} trains with the configuration and images of {stock}")
    fine_rows = [[f"whole network from {METHOD_NAMES[m]}", f"{pct(fine[m]['full']['final']['train_acc'])}%",
                  f"**{pct(fine[m]['full']['final']['test_acc'])}%**",
                  f"{pct(fine[m]['full']['best']['test_acc'])}% ({fine[m]['full']['best']['epoch']})"] for m in methods]
    knn_row, probe_row = (next(r for r in values if r.startswith(p)) for p in ("kNN", "linear probe"))
    tuned_rows = [r for r in values if r not in (knn_row, probe_row)]
    column = {i: {r: v[i] for r, v in values.items()} for i in inits}
    rotation = column["rotation"]
    seed_ranges = list(few_seed_ranges(few).values())
    frozen, tuned, settled, whole, above, below = [], [], [], [], [], []
    for m in methods:
        name, ours = METHOD_NAMES[m], column[m]
        owner = possessive(name)
        claims.check(ours[knn_row] > rotation[knn_row] and ours[probe_row] > rotation[probe_row],
                     f"contrastive: {name}'s frozen features beat rotation's by kNN and by the linear probe")
        frozen.append(f"{owner} {pct(ours[knn_row])}% and {pct(ours[probe_row])}%")
        ahead = [r for r in tuned_rows if rotation[r] > ours[r]]
        leads = [rotation[r] - ours[r] for r in ahead] or [0.0]   # none: the claim below stops the generator
        claims.check(len(ahead) > len(tuned_rows) / 2, f"contrastive: the rotation trunk is ahead of {name}'s in most fine-tuning rows")
        beyond = [r for r in tuned_rows if abs(rotation[r] - ours[r]) > max(seed_ranges)]
        claims.check(all(rotation[r] > ours[r] for r in beyond),
                     f"contrastive: every fine-tuning gap to {name} beyond the seed spread is in rotation's favour")
        settled.append(f"{owner} gaps are all within them, so with one seed per run this order is not established"
                       if not beyond else
                       f"{owner} exceed the largest of them in {len(beyond)} of the {len(tuned_rows)} rows ("
                       + "; ".join(f"{r}: {signed(ours[r] - rotation[r])}" for r in beyond) + ")")
        behind = "".join(f"; {name} is ahead in {r} ({signed(ours[r] - rotation[r])})" for r in tuned_rows if r not in ahead)
        tuned.append(f"of {owner} in {len(ahead)} of the {len(tuned_rows)} fine-tuning rows, by "
                     f"{pct(min(leads))} to {pct(max(leads))} points{behind}")
        run = fine[m]["full"]["final"]
        (above if run["test_acc"] > 0.85 else below).append(owner)
        whole.append(f"{pct(run['test_acc'])}% from {owner} encoder ({pct(run['train_acc'])}% on its training images)")
    missing = [METHOD_NAMES[m] for m in METHOD_NAMES if m not in methods]
    return {"contrastive_table": table(["test accuracy", *(METHOD_NAMES.get(i, i) for i in inits)], rows),
            "pretraining_table": table(["method", "epochs", "batch (images)", "lr", "loss setting", "head",
                                        "kNN at the last epoch", "training minutes"], pre_rows),
            "contrastive_finetuning_table": table(["run", "train accuracy, last epoch", "test accuracy, last epoch",
                                                   "at lowest validation loss (epoch)"], fine_rows),
            "contrastive_methods": " and ".join(METHOD_NAMES[m] for m in methods),
            "contrastive_best_checkpoints": " and ".join(f"`checkpoints/full_from_{m}.best.pt`" for m in methods),
            "contrastive_missing": (f" {' and '.join(missing)} is implemented in the notebook too, but its "
                                    "pre-training is not part of this execution, so it has no column here."
                                    if missing else ""),
            "contrastive_better": ("the contrastive encoders are the better ones" if len(methods) > 1
                                   else f"{possessive(METHOD_NAMES[methods[0]])} encoder is the better one"),
            "contrastive_frozen": " and ".join(frozen) + f", against {pct(rotation[knn_row])}% and {pct(rotation[probe_row])}%",
            "contrastive_tuned": "; and ".join(tuned),
            "contrastive_settled": "; ".join(settled),
            "seed_ranges": f"{pct(min(seed_ranges))} to {pct(max(seed_ranges))}",
            "contrastive_whole": " and ".join(whole),
            "contrastive_bonus": " and ".join(
                ([f"{' and '.join(above)} {'reaches' if len(above) == 1 else 'reach'} it"] if above else [])
                + ([f"{' and '.join(below)} {'does' if len(below) == 1 else 'do'} not"] if below else [])),
            "random_whole": pct(runs["full_from_random"]["final"]["test_acc"]),     # the seed of section 14's runs
            "imagenet_note": ("" if contrastive["imagenet_skipped"] is None else
                              " torchvision's ImageNet weights, the notebook's fifth starting point where they can "
                              f"be downloaded, were not available to this execution (`{contrastive['imagenet_skipped']}`).")}


def fill(results):
    """The template's fields, and the claims checked on the way."""
    claims = Claims()
    summary = read(results, "summary")
    runs = {name: read(results, name) for name in RUNS}
    rows = {row["name"]: row for row in summary["rows"]}
    acc = {name: row["final_acc"] for name, row in rows.items()}          # the mean over seeds
    train_acc = {name: row["train_acc"] for name, row in rows.items()}
    for row in summary["rows"]:
        claims.check(row["expected"] is None or 100 * row["final_acc"] > row["expected"],
                     f"Results: {row['name']} is above the expected ~{row['expected']}%")
    claims.check(acc["layer4_from_rotation"] - acc["layer4_from_random"] > acc["full_from_rotation"] - acc["full_from_random"] > 0,
                 "Tasks 2-3: rotation leads in both, by less with the whole network trained")
    claims.check(all(a["train_acc"] < b["train_acc"] for a, b in zip(rows["layer4_from_random"]["by_seed"],
                                                                    rows["layer4_from_rotation"]["by_seed"])),
                 "Task 2: the frozen random trunk fits the training images worse (in every seed)")
    precision, few = read(results, "precision_check"), read(results, "few_labels")
    bf16, fp32 = (r["final_test_acc"] for r in precision["runs"].values())
    claims.check(abs(bf16 - fp32) < 0.005, "Method: bf16 and fp32 reach the same accuracy within half a point")
    fields = {"device": f"{runs['rotation']['device']} ({runs['rotation']['precision']})", "n_train": runs["rotation"]["n_train"],
              "n_test": runs["rotation"]["n_test"], "n_val": runs["rotation"]["n_val"], "results_table": results_table(summary),
              "seeds_note": seeds_note(summary), "tasks_gap_seeds": tasks_gap_part(summary, rows, claims),
              "config_table": config_table(runs), "rotation_final": pct(acc["rotation"]),
              **{f"{k}_{i}": pct(acc[f"{k}_from_{init}"]) for k in ("layer4", "full")
                 for i, init in (("rot", "rotation"), ("rand", "random"))},
              "layer4_gap": points(acc["layer4_from_rotation"], acc["layer4_from_random"]),
              "full_gap": points(acc["full_from_rotation"], acc["full_from_random"]),
              "layer4_rot_train": pct(train_acc["layer4_from_rotation"]),
              "layer4_rand_train": pct(train_acc["layer4_from_random"]),
              **confusion_part(read(results, "rotation_confusion"), claims),
              **few_part(few, claims), "seeds_part": seeds_part(few, claims),
              **stem_part(read(results, "stem"), runs, claims), **nette_part(read(results, "imagenette"), claims),
              **inside_part(read(results, "inside"), claims), **compute_part(read(results, "compute_matched"), rows, claims),
              **contrastive_part(read(results, "contrastive"), few, results, runs, claims),
              **speed_part(read(results, "benchmark"), precision, read(results, "speed_levers")),
              **time_to_accuracy_part(read(results, "time_to_accuracy")),
              **presets_part(read(results, "presets"), claims),
              **depth_part(read(results, "depth_probe"), read(results, "freeze_depth"), few, claims)}
    claims.verify()
    return fields, summary


def with_results_table(readme, new_table):
    """README.md with the table between its results-table markers replaced."""
    pattern = re.compile(r"(<!-- results-table[^>]*-->\n).*?(\n<!-- /results-table -->)", re.S)
    if not pattern.search(readme):
        raise SystemExit("README.md has no <!-- results-table --> ... <!-- /results-table --> markers")
    return pattern.sub(lambda m: m.group(1) + new_table + m.group(2), readme)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--report", type=Path, default=ROOT / "report.md")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    fields, summary = fill(args.results)
    args.report.write_text((ROOT / "tools" / "report_template.md").read_text().format(**fields))
    readme = args.readme.read_text()
    args.readme.write_text(with_results_table(readme, results_table(summary)))
    print(f"wrote {args.report} and the results table of {args.readme}")


if __name__ == "__main__":
    main()

"""Write report.md, and the results table in README.md, from the files in results/.

    python tools/make_report.py [--results results] [--report report.md] [--readme README.md]

Every number in the report comes from a results file; sentences that compare numbers choose their
wording from the numbers, so the text cannot contradict the table.
"""
import argparse
import functools
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
# A student report for the same assignment, shipped with the assignment materials (20 epochs per
# fine-tuning); quoted for comparison, not measured here.
PEER = {"rotation": "77.93", "layer4_from_rotation": "49.44", "layer4_from_random": "45.82",
        "full_from_rotation": "67.94", "full_from_random": "77.10"}
ROTATIONS = ["0°", "90°", "180°", "270°"]
# Results files of notebook sections whose wall time the report quotes; a copy of each, as written
# by the execution that trained its runs, is kept in results/from_scratch/.
SECTIONS = ("summary", "few_labels", "imagenette", "stem")


def pct(x, digits=1):
    return f"{100 * x:.{digits}f}"


def load(results):
    """The summary the notebook wrote (one row per run, in order), each run's own file, and the
    optional analysis and benchmark files."""
    summary = json.loads((results / "summary.json").read_text())
    runs = {row["name"]: json.loads((results / f"{row['name']}.json").read_text()) for row in summary["rows"]}
    optional = {"summary": summary}
    for name in ("rotation_confusion", "benchmark", "precision_check", "few_labels", "few_label_seeds", "imagenette",
                 "stem", "speed_levers", "earlier_run/imagenette", "stock_forward/summary",
                 "stock_forward/precision_check", *(f"from_scratch/{n}" for n in SECTIONS)):
        path = results / f"{name}.json"
        optional[name] = json.loads(path.read_text()) if path.exists() else None
    return runs, optional


def results_table(rows):
    lines = ["| run | test accuracy, last epoch | at lowest test loss (epoch) | assignment expects | "
             "peer report | epochs | training minutes |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        expected = f"~{row['expected']}%" if row["expected"] is not None else "–"
        lines.append(f"| {row['label']} | **{pct(row['final_acc'])}%** | {pct(row['best_acc'])}% "
                     f"({row['best_epoch']}) | {expected} | {PEER[row['name']]}% | {row['epochs']} | "
                     f"{row['train_minutes']:.1f} |")
    return "\n".join(lines)


def config_table(runs):
    """The fields that differ between runs as a table; those shared by every run in one line below it
    (a table of all of them is wider than a printed page)."""
    keys = ["epochs", "batch_size", "lr", "momentum", "nesterov", "weight_decay", "warmup_epochs",
            "label_smoothing", "augment", "cpu_forward"]
    varying = [k for k in keys if len({str(run["config"][k]) for run in runs.values()}) > 1]
    lines = ["| run | scope | " + " | ".join(k.replace("_", " ") for k in varying) + " |",
             "|---|---|" + "---|" * len(varying)]
    for name in runs:
        cfg = runs[name]["config"]
        extra = f" ({cfg['rotation_mode']} rotations)" if name == "rotation" else ""
        lines.append(f"| {name}{extra} | {runs[name]['scope']} | "
                     + " | ".join(str(cfg[k]) for k in varying) + " |")
    first = next(iter(runs.values()))["config"]
    shared = ", ".join(f"{k.replace('_', ' ')} {first[k]}" for k in keys if k not in varying)
    return "\n".join(lines + ["", f"Every run: {shared}."])


@functools.cache
def run_defaults():
    """The notebook's RUN_DEFAULTS: a field added to it after a results file was written took, in
    that run, the default value (defaults keep the old behaviour)."""
    from notebook_definitions import load_definitions
    return load_definitions().RUN_DEFAULTS


# Fields added to RUN_DEFAULTS after some results were written, with the value those runs had.
FIELDS_ADDED_LATER = {"augment": "pad-crop", "cpu_forward": "stock"}


def full_config(config):
    return {**run_defaults(), **FIELDS_ADDED_LATER, **config}


def trained_record(name, optional):
    """A section's results file as written by the execution that trained its runs: the committed
    one, unless that execution loaded finished runs; then the copy in results/from_scratch/."""
    section = optional[name]
    if not section.get("loaded_runs"):
        return section, "the committed execution"
    trained = optional[f"from_scratch/{name}"]
    if not trained or trained.get("loaded_runs"):
        raise SystemExit(f"{name}.json says runs were loaded, and results/from_scratch/{name}.json, the "
                         "execution that trained them, is missing or loaded runs itself")
    return trained, "the execution that trained them, kept in `results/from_scratch/`"


def section_wall_minutes(name, optional):
    """Wall time of a notebook section as trained, and which execution it comes from."""
    record, which = trained_record(name, optional)
    return record["wall_minutes"], which


def wall_time(name, optional):
    """'wall time X minutes (which execution)' of a notebook section, for a sentence."""
    return "wall time {:.1f} minutes ({})".format(*section_wall_minutes(name, optional))


def short_config(config):
    """Epochs, batch size and learning rate of a run, and its augmentation and CPU forward where not
    the default."""
    config = full_config(config)
    short = {f: config[f] for f in ("epochs", "batch_size", "lr")}
    for field in FIELDS_ADDED_LATER:
        if config[field] != run_defaults()[field]:
            short[field] = config[field]
    return short


def configurations_line(name, optional):
    """A section's run configurations (epochs, batch, learning rate) and its wall time, with the runs
    that the training execution resumed rather than started (their first epochs are not in it)."""
    short = {kind: short_config(cfg) for kind, cfg in optional[name]["config"].items()}
    record, _ = trained_record(name, optional)
    return (f"Configurations: {json.dumps(short)}; section {wall_time(name, optional)}."
            + resumed_note(record.get("runs", {}).values()))


def speed_section(runs, optional):
    benchmark = optional["benchmark"]
    total_minutes = sum(r["train_seconds"] for r in runs.values()) / 60
    minutes, which = section_wall_minutes("summary", optional)
    wall = (f"The notebook's wall time for Tasks 1-3, from loading the data to their summary table, all "
            f"five runs and their evaluations included, in {which}: **{minutes:.1f} minutes**. ")
    lines = [f"{wall}Training steps alone: {total_minutes:.1f} minutes. Mean training speed per run:", "",
             "| run | images/s | precision |", "|---|---|---|"]
    for row in optional["summary"]["rows"]:
        lines.append(f"| {row['name']} | {row['images_per_s']:.0f} | {runs[row['name']]['precision']} |")
    if benchmark:
        lines += ["", f"Side-by-side benchmark (`{benchmark['command']}`, {benchmark['machine']['cpu']}, "
                  f"{benchmark['machine']['threads']} threads, torch {benchmark['machine']['torch']}): "
                  f"starter-style pipeline ({benchmark['starter']}) against ours ({benchmark['ours']}).", "",
                  "| training | starter-style images/s | ours images/s | speed-up |", "|---|---|---|---|"]
        for name, row in benchmark["results"].items():
            lines.append(f"| {name} | {row['starter']['images_per_s']:.0f} | {row['ours']['images_per_s']:.0f} "
                         f"| {row['speed-up']:.2f}x |")
    return "\n".join(lines + levers_lines(optional["speed_levers"], benchmark))


def spread(measured):
    """Relative spread of repeated measurements of one path: max / min - 1."""
    return max(measured.values()) / min(measured.values()) - 1


def speed_ratio_sentence(levers, benchmark):
    """The rotation speed-up over the starter-style pipeline in every run that measured both, and how
    far each pipeline's own figure moves between runs."""
    notebook = levers["notebook_path"]
    starter = {"benchmark": benchmark["results"]["rotation"]["starter"]["images_per_s"],
               "levers": levers["starter"]["images_per_s"]}
    ours = {"benchmark": benchmark["results"]["rotation"]["ours"]["images_per_s"],
            "levers, first": levers["results"][notebook]["images_per_s"],
            "levers, last": levers["results"][notebook + ", measured again"]["images_per_s"]}
    ratios = {where: v / starter[where.split(",")[0]] for where, v in ours.items()}
    return (f"Rotation training against the starter-style pipeline: "
            f"{ratios['benchmark']:.2f}x in the benchmark run; {ratios['levers, first']:.2f}x and "
            f"{ratios['levers, last']:.2f}x in the levers run, where the notebook's path was measured first and last "
            f"against a starter measured once. The starter measured {starter['benchmark']:.0f} and "
            f"{starter['levers']:.0f} images/s in the two runs ({100 * spread(starter):.0f}% apart), the notebook's "
            f"path {min(ours.values()):.0f} to {max(ours.values()):.0f} ({100 * spread(ours):.0f}% apart).")


def levers_lines(levers, benchmark):
    """What each part of the notebook's CPU forward, and each lever tried, does to the rotation speed."""
    if not levers:
        return []
    starter = levers["starter"]["images_per_s"]
    lines = ["", f"Where the speed comes from: the rotation training with one change at a time to the stock path "
             f"(`{levers['command']}`, the same machine, one run; the starter-style pipeline measured at its end: "
             f"{starter:.0f} images/s):", "",
             "| path | images/s | relative to the stock path | relative to the starter |", "|---|---|---|---|"]
    for name, row in levers["results"].items():
        lines.append(f"| {name} | {row['images_per_s']:.0f} | {row['relative_to_stock_path']:.2f}x | "
                     f"{row['relative_to_starter']:.2f}x |")
    if benchmark:
        lines += ["", speed_ratio_sentence(levers, benchmark)]
    lines += ["", "The convolutions on 2x2 and 1x1 maps (`layer3` after its first conv, all of `layer4`) are where "
              "the stock path loses most: their backward pass costs several times their forward on maps that small. "
              "As one dense matrix product each they compute the same function: layer3 and layer4 outputs and "
              "gradients agree with the convolutions' to a relative "
              f"{levers['matrix_form_max_relative_difference_fp32']:.0e} in fp32 (float rounding; "
              "`tests/test_fast_forward.py` checks it). Channels-last memory adds to them mostly through the max-pool, "
              "which this CPU runs much faster in that layout (seen in a profile of one step)."]
    return lines


def confusion_section(analysis):
    if not analysis:
        return "(No `results/rotation_confusion.json` yet: run the notebook's Task 1 cells.)"
    matrix = analysis["confusion"]
    lines = ["| true ↓ / predicted → | " + " | ".join(ROTATIONS) + " |", "|---|---|---|---|---|"]
    for i, row in enumerate(matrix):
        total = sum(row)
        lines.append(f"| {ROTATIONS[i]} | " + " | ".join(f"{100 * v / total:.1f}%" for v in row) + " |")
    per_rotation = [matrix[i][i] / sum(matrix[i]) for i in range(4)]
    off = {(i, j): matrix[i][j] / sum(matrix[i]) for i in range(4) for j in range(4) if i != j}
    (ti, tj), worst = max(off.items(), key=lambda kv: kv[1])
    quarter = sum(off[(i, j)] for i, j in off if (i - j) % 2) / 8
    half = sum(off[(i, j)] for i, j in off if (i - j) % 4 == 2) / 4
    by_class = sorted(analysis["accuracy_by_class"].items(), key=lambda kv: kv[1])
    best_rot = max(range(4), key=lambda k: per_rotation[k])
    worst_rot = min(range(4), key=lambda k: per_rotation[k])
    text = [
        "\n".join(lines), "",
        f"Per rotation the network is right {', '.join(f'{pct(a)}% at {r}' for r, a in zip(ROTATIONS, per_rotation))}"
        + (f": about equally often (within {100 * (max(per_rotation) - min(per_rotation)):.1f} points). "
           if max(per_rotation) - min(per_rotation) < 0.01 else
           f": best at {ROTATIONS[best_rot]}, worst at {ROTATIONS[worst_rot]}. ")
        + f"The most frequent mistake is to "
        f"read {ROTATIONS[ti]} as {ROTATIONS[tj]} ({pct(worst)}% of the {ROTATIONS[ti]} images). "
        f"On average an image is taken for each of the two rotations a quarter-turn away from its own "
        f"{pct(quarter)}% of the time, and for the rotation a half-turn away {pct(half)}% of the time"
        + (", so the network is more often unsure which way an image lies on its side than whether it is upside down."
           if quarter > half else ", so turning an image upside down is the harder confusion."),
        "",
        f"By object class, rotation is hardest for {', '.join(f'{c} ({pct(a)}%)' for c, a in by_class[:3])} "
        f"and easiest for {', '.join(f'{c} ({pct(a)}%)' for c, a in by_class[::-1][:3])}.",
    ]
    return "\n".join(text)


def gap_sentence(rot, rand, what):
    gap = 100 * (rot - rand)
    if gap > 1:
        verdict = f"the rotation initialisation is ahead by **{gap:.1f} points**"
    elif gap < -1:
        verdict = f"the random initialisation is ahead by **{-gap:.1f} points**"
    else:
        verdict = f"the two are within a point of each other ({gap:+.1f})"
    return f"{what}: {pct(rot)}% from rotation against {pct(rand)}% from random weights; {verdict}."


def read_runs(folder, names):
    """{run: its results file} for the runs of `names` that `folder` holds."""
    return {n: json.loads((folder / f"{n}.json").read_text()) for n in names if (folder / f"{n}.json").exists()}


def repeat_noise(stock, results):
    """The stock-forward runs against an earlier run of the same configuration: the rows of their
    table and the largest difference in last-epoch accuracy (None where no pair is kept)."""
    earlier = read_runs(results / "earlier_run", stock)
    same = {n: o for n, o in earlier.items() if full_config(o["config"]) == full_config(stock[n]["config"])}
    rows = [f"| {n} | {pct(stock[n]['final']['test_acc'], 2)}% | {pct(o['final']['test_acc'], 2)}% |"
            for n, o in same.items()]
    diffs = [abs(stock[n]["final"]["test_acc"] - o["final"]["test_acc"]) for n, o in same.items()]
    return rows, (max(diffs) if diffs else None)


def earlier_run_section(rows, noise):
    """How far two runs of one configuration lie apart: the stock-forward runs and an earlier run
    (the rows and largest difference of `repeat_noise`)."""
    if noise is None:
        return "No configuration of Tasks 1-3 has been run twice."
    lines = ["The stock-forward configuration was run twice (`results/stock_forward/` and `results/earlier_run/`, "
             "whose READMEs say how):", "",
             "| run | stock forward, last epoch | earlier run, last epoch |", "|---|---|---|", *rows]
    lines += ["", "The two runs agree to the last digit: with the same seed the CPU run is deterministic."
              if noise == 0 else
              f"They differ by at most {pct(noise, 2)} points: bf16 arithmetic and thread scheduling make "
              "runs on a CPU not bit-for-bit repeatable, and this is the size of that noise."]
    return "\n".join(lines)


def forward_section(runs, stock, noise, optional):
    """Tasks 1-3 with the fast CPU forward (the committed run) against the stock forward (`stock`, its
    runs' results files), with `noise`, the largest difference between two runs of one configuration."""
    if not stock:
        return ""
    stock_wall = optional["stock_forward/summary"]["wall_minutes"]
    fast_wall, _ = section_wall_minutes("summary", optional)
    mean_speed = lambda run: sum(h["images_per_s"] for h in run["history"]) / len(run["history"])
    lines = ["Tasks 1-3 were first trained with the stock forward (`cpu_forward=\"stock\"`: bf16 up to `layer3`, "
             "`layer4` and `fc` in fp32) and then again with the fast one, with everything else equal (same seed, "
             "batches, schedule; `results/stock_forward/` keeps the stock run's files, its README says how it ran):", "",
             "| run | stock: last epoch | fast: last epoch | difference | stock: images/s | fast: images/s | speed-up |",
             "|---|---|---|---|---|---|---|"]
    diffs = {}
    for name, run in runs.items():
        old = stock[name]
        diffs[name] = run["final"]["test_acc"] - old["final"]["test_acc"]
        lines.append(f"| {name} | {pct(old['final']['test_acc'], 2)}% | {pct(run['final']['test_acc'], 2)}% | "
                     f"{100 * diffs[name]:+.2f} | {mean_speed(old):.0f} | {mean_speed(run):.0f} | "
                     f"{mean_speed(run) / mean_speed(old):.2f}x |")
    worst, best, mean = min(diffs.values()), max(diffs.values()), sum(diffs.values()) / len(diffs)
    repeat = " (the same configuration and seed repeat to the last digit, below)" if noise == 0 else ""
    if worst >= 0:
        verdict = "no run lost accuracy"
    elif best > 0 and worst > -0.01 and mean > -0.005:
        verdict = (f"of both signs, {100 * mean:+.2f} on average. Other rounding sends training down another path, "
                   f"as another seed would{repeat}; the spread between seeds of these runs is not measured, but "
                   "differences this small and of both signs show no systematic cost of the fast forward")
    else:
        verdict = f"{100 * mean:+.2f} on average: the fast forward costs accuracy here"
    lines += ["", f"Differences range from {100 * worst:+.2f} to {100 * best:+.2f} points, {verdict}. "
              f"Wall time of Tasks 1-3: {fast_wall:.1f} minutes with the fast forward against {stock_wall:.1f} with the "
              f"stock one ({stock_wall / fast_wall:.2f}x)."]
    return "\n".join(lines)


def full_gap_reading(final):
    """The whole-network gap set against the layer4+fc gap, with the one-seed caveat where it is small."""
    layer4_gap = final["layer4_from_rotation"] - final["layer4_from_random"]
    full_gap = final["full_from_rotation"] - final["full_from_random"]
    text = (f"That is {'less' if abs(full_gap) < abs(layer4_gap) else 'more'} than with layer4+fc alone "
            f"({100 * layer4_gap:+.1f} points).")
    if abs(full_gap) < 0.03:
        text += (" Each figure comes from one seed; the spread between seeds has not been measured, so a "
                 "gap of a few points is suggestive rather than settled.")
    return text


def precision_section(check, stock_check=None):
    """The notebook's bf16 rotation run against the same run in fp32, epoch by epoch; and the same
    comparison made earlier for the stock forward, where kept."""
    if not check:
        return ("Whether bf16 costs accuracy has not been measured yet: `python benchmarks/precision_check.py "
                "--data ../shared/data/cifar10` trains Task 1 again in fp32 and writes `results/precision_check.json`.")
    (bf16_label, bf16), (fp32_label, fp32) = check["runs"].items()
    lines = [f"To check that bf16 costs no accuracy, Task 1 was trained again in fp32 with everything else equal "
             f"(same seed, batches, schedule and code; `{check['command']}`):", "",
             "| epoch | " + " | ".join(f"{label} test acc" for label in check["runs"]) + " |", "|---|---|---|"]
    for epoch, (a, b) in enumerate(zip(bf16["test_acc_by_epoch"], fp32["test_acc_by_epoch"]), 1):
        lines.append(f"| {epoch} | {pct(a, 2)}% | {pct(b, 2)}% |")
    diff = 100 * (bf16["final_test_acc"] - fp32["final_test_acc"])
    speed = bf16["mean_images_per_s"] / fp32["mean_images_per_s"]
    if diff >= -0.5:
        verdict = (f"so bf16 cost no measurable accuracy ({diff:+.2f} points; one seed each, the spread between "
                   "seeds is not measured)")
    else:
        verdict = f"so bf16 cost {-diff:.2f} points (one seed each)"
    lines += ["", f"After the last epoch: {pct(bf16['final_test_acc'], 2)}% with bf16 against "
              f"{pct(fp32['final_test_acc'], 2)}% in fp32, {verdict}. Mean training speed: "
              f"{bf16['mean_images_per_s']:.0f} against {fp32['mean_images_per_s']:.0f} images/s "
              f"({speed:.2f}x). {check.get('notes', '')}"]
    if stock_check:
        (_, stock), (_, stock_fp32) = stock_check["runs"].items()
        lines[-1] = lines[-1].rstrip() + (f" The same comparison for the stock forward (`results/stock_forward/precision_check.json`): "
                      f"{pct(stock['final_test_acc'], 2)}% against {pct(stock_fp32['final_test_acc'], 2)}% in fp32.")
    return "\n".join(lines)


SETUP_NAMES = {"full_from_rotation": "The whole network from rotation",
               "layer4_from_rotation": "Layer4+fc from rotation"}


def whole_net_gaps(curves):
    """(labelled per class, accuracy points of rotation over random init) with the whole network trained."""
    return [(a["per_class"], 100 * (a["final_acc"] - b["final_acc"]))
            for a, b in zip(curves["full_from_rotation"], curves["full_from_random"])]


def few_labels_section(optional):
    few = optional["few_labels"]
    if not few:
        return "(No `results/few_labels.json` yet: run section 12 of the notebook.)"
    curves = few["curves"]
    counts = [p["per_class"] for p in next(iter(curves.values()))]
    lines = ["| labelled per class | " + " | ".join(c.replace("_", " ") for c in curves) + " | rotation - random (whole net) |",
             "|---|" + "---|" * (len(curves) + 1)]
    for i, (n, gap) in enumerate(whole_net_gaps(curves)):
        lines.append(f"| {n} | " + " | ".join(f"{pct(c[i]['final_acc'])}%" for c in curves.values())
                     + f" | {gap:+.1f} |")
    budget = ["", "Training budget per point (the same rule everywhere: " + few["rule"] + "):", "",
              "| labelled per class | images per epoch | layer4+fc steps | whole-net steps |", "|---|---|---|---|"]
    for i, n in enumerate(counts):
        budget.append(f"| {n} | {curves['full_from_rotation'][i]['images_per_epoch']:,} | "
                      f"{curves['layer4_from_rotation'][i]['steps']:,} | {curves['full_from_rotation'][i]['steps']:,} |")
    reading = []
    for setup in ("full_from_rotation", "layer4_from_rotation"):
        gaps = [100 * (a["final_acc"] - b["final_acc"]) for a, b in zip(curves[setup], curves["full_from_random"])]
        ahead = [n for n, g in zip(counts, gaps) if g > 0]
        behind = [n for n in counts if n not in ahead]
        verdict = ("ahead at every count" if not behind else
                   f"ahead at {', '.join(map(str, ahead)) or 'no count'}, not at {', '.join(map(str, behind))}")
        reading.append(f"{SETUP_NAMES[setup]} minus the whole network from random weights: "
                       f"{', '.join(f'{g:+.1f}' for g in gaps)} points at {', '.join(map(str, counts))} per class "
                       f"({verdict}).")
    reading = " ".join(reading)
    ref = few["reference"]
    quoted = (f"For the shape of the curve, the paper's figures ({ref['source']}; a network-in-network, not "
              "ResNet18, and another schedule): " + "; ".join(
                  f"{label.removeprefix('paper: ')} " + " / ".join(map(str, ys)) for label, ys in ref["curves"].items())
              + f" % at {' / '.join(map(str, ref['per_class']))} per class.")
    wall = f"Section {wall_time('few_labels', optional)}."
    return "\n".join(lines + budget + ["", reading, "", quoted, "", wall])


def seed_zero_source(seeds, few):
    """Whether the seed-0 points of the seeds file are the committed section 12's runs; where not, a
    sentence saying so (they came from an earlier training of the section)."""
    committed = {(setup, p["per_class"]): p["final_acc"] for setup, points in few["curves"].items() for p in points}
    if all(committed.get((setup, p["per_class"])) == p["final_acc_by_seed"]["0"]
           for setup, points in seeds["points"].items() for p in points):
        return ""
    return (" These runs predate the fast CPU forward: they used the stock forward and the rotation trunk trained "
            "with it, and their seed 0 is section 12 as first trained (`results/stock_forward/few_labels.json`), "
            "not the committed run above; the spread between seeds is what they measure.")


def few_label_seeds_section(seeds, few=None):
    """The smallest counts again with other seeds: every seed's accuracy, and whether the gain of the
    rotation initialisation is larger than the spread between seeds."""
    if not seeds:
        return ("Each point is one seed; `benchmarks/few_label_seeds.py` repeats the small counts with other "
                "seeds (not run yet).")
    lines = [f"How much the small counts move with the seed (seeds {', '.join(map(str, seeds['seeds']))}: each "
             f"draws another balanced subset, head initialisation and data order; `{seeds['command']}`, "
             f"{seeds['wall_minutes']:.0f} minutes).{seed_zero_source(seeds, few) if few else ''}", "",
             "| labelled per class | set-up | test accuracy by seed | mean | range |", "|---|---|---|---|---|"]
    rows = sorted(((p["per_class"], setup, p) for setup, points in seeds["points"].items() for p in points),
                  key=lambda t: t[0])
    for _, setup, p in rows:
        by_seed = " / ".join(f"{pct(a)}" for a in p["final_acc_by_seed"].values())
        lines.append(f"| {p['per_class']} | {setup} | {by_seed} | {pct(p['mean'])}% | "
                     f"{pct(p['min'])}-{pct(p['max'])}% |")
    supervised = {p["per_class"]: p for p in seeds["points"]["full_from_random"]}
    verdicts = []
    for i, n in enumerate(supervised):
        best = max((seeds["points"][s][i] for s in seeds["points"] if s != "full_from_random"),
                   key=lambda p: p["mean"])
        margin = 100 * (best["min"] - supervised[n]["max"])
        verdicts.append(f"{n} per class: the worst seed of the better rotation set-up is "
                        + (f"{margin:.1f} points above the best seed of supervised training" if margin > 0 else
                           f"{-margin:.1f} points below the best seed of supervised training"))
    lines += ["", "; ".join(verdicts) + "."]
    return "\n".join(lines)


def few_labels_trend(few):
    """Whether the gain of the rotation initialisation (whole network) shrinks as labels grow."""
    if not few:
        return ""
    gaps = whole_net_gaps(few["curves"])
    (n_max, g_max), (n_min, g_min) = max(gaps, key=lambda t: t[1]), min(gaps, key=lambda t: t[1])
    peak = [n for n, _ in gaps].index(n_max)
    shrinking = all(later <= earlier + 1 for (_, earlier), (_, later) in zip(gaps[peak:], gaps[peak + 1:]))
    text = (f"The whole network from rotation minus the whole network from random weights is largest at "
            f"{n_max} per class ({g_max:+.1f} points) "
            f"and smallest at {n_min} ({g_min:+.1f}). ")
    if shrinking and n_min == gaps[-1][0]:
        text += ((f"From {n_max} per class on it shrinks as labels are added." if peak else
                  "It shrinks as labels are added."))
    else:
        text += "It does not shrink steadily as labels are added; one seed per point leaves that open."
    l4, full = few["curves"]["layer4_from_rotation"][0], few["curves"]["full_from_rotation"][0]
    if l4["final_acc"] > full["final_acc"]:
        text += (f" At {l4['per_class']} per class, training only layer4+fc on the rotation trunk "
                 f"({pct(l4['final_acc'])}%) beats training the whole network from it ({pct(full['final_acc'])}%).")
    return text


def overfit_sentence(run):
    """Training against held-out accuracy at the last epoch of a run, and what the gap says."""
    last = run["final"]
    gap = 100 * (last["train_acc"] - last["test_acc"])
    text = (f"At its last epoch the Imagenette rotation network is right on {pct(last['train_acc'])}% of its "
            f"(augmented) training examples and {pct(last['test_acc'])}% of the validation ones")
    augment = full_config(run["config"])["augment"]
    best = run["best"]
    if gap > 5:
        levers = ("more images or a higher resolution are" if augment == "resized-crop" else
                  "more images, stronger augmentation or a higher resolution are")
        return text + (f": a gap of {gap:.1f} points. With 9,469 images it begins to memorise them "
                       f"(the validation loss was lowest at epoch {best['epoch']} of {len(run['history'])}), so "
                       f"more epochs alone would not help much; {levers} the levers left.")
    return text + (f" ({augment} augmentation): a gap of {gap:.1f} points, with the validation loss lowest at "
                   f"epoch {best['epoch']} of {len(run['history'])}.")


def earlier_imagenette_sentence(nette, optional):
    """The first configuration tried for the Imagenette rotation run, where its results are kept."""
    earlier = optional["earlier_run/imagenette"]
    if not earlier:
        return ""
    old, new = earlier["runs"]["rotation"], nette["runs"]["rotation"]
    old_cfg, new_cfg = full_config(old["config"]), full_config(new["config"])
    changed = [k for k in new_cfg if old_cfg[k] != new_cfg[k]]
    if not changed:
        return ""
    was = ", ".join(f"{k} {old_cfg[k]}" for k in changed)
    now = ", ".join(f"{k} {new_cfg[k]}" for k in changed)
    return (f"Tried first (`results/earlier_run/imagenette.json`): the same rotation run with {was} "
            f"(here {now}). It reached {pct(old['final']['test_acc'])}% on the validation images and "
            f"{pct(old['final']['train_acc'])}% on its training examples; this configuration reaches "
            f"{pct(new['final']['test_acc'])}% and {pct(new['final']['train_acc'])}%.")


def imagenette_section(optional):
    nette = optional["imagenette"]
    if not nette:
        return "(No `results/imagenette.json` yet: run section 13 of the notebook with `IMAGENETTE_DIR` set.)"
    rows = nette["rows"]
    lines = [f"{nette['n_train']:,} training and {nette['n_val']:,} validation images, resized to "
             f"{nette['size']}x{nette['size']}; accuracy on the validation images (all four rotations of each "
             "for the rotation task).", "",
             "| run | epochs | val accuracy, last epoch | at lowest val loss (epoch) | training minutes | images/s |",
             "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        lines.append(f"| {name} | {r['epochs']} | **{pct(r['final_acc'])}%** | {pct(r['best_acc'])}% "
                     f"({r['best_epoch']}) | {r['train_minutes']:.1f} | {r['images_per_s']:.0f} |")
    rot = rows["rotation"]["final_acc"]
    lines += ["", f"Rotation accuracy {pct(rot)}% on the validation images. (A public solution to this exercise reports 65.1% at 224 px; that figure is "
              "quoted from the task description, not measured here.) "
              + gap_sentence(rows["layer4_from_rotation"]["final_acc"], rows["layer4_from_random"]["final_acc"],
                             "Transfer with layer4+fc trained") + " "
              + gap_sentence(rows["full_from_rotation"]["final_acc"], rows["full_from_random"]["final_acc"],
                             "With the whole network trained"),
              "", overfit_sentence(nette["runs"]["rotation"])]
    earlier = earlier_imagenette_sentence(nette, optional)
    lines += ["", earlier] if earlier else []
    lines += ["", configurations_line("imagenette", optional)]
    return "\n".join(lines)


def stem_section(optional):
    """Section 14: each 3x3-stem run beside its stock counterpart, the cost, and whether it wins."""
    stem = optional["stem"]
    if not stem:
        return "(No `results/stem.json` yet: run section 14 of the notebook.)"
    rows = stem["rows"]
    lines = ["| run | stock ResNet18: test acc, last epoch (epochs) | 3x3 stem (epochs) | stock: training min "
             "(images/s) | 3x3 stem: training min (images/s) |", "|---|---|---|---|---|"]
    for name, r in rows.items():
        a, b = r["stock"], r["3x3"]
        lines.append(f"| {name} | {pct(a['final_acc'])}% ({a['epochs']}) | **{pct(b['final_acc'])}%** ({b['epochs']}) | "
                     f"{a['train_minutes']:.1f} ({a['images_per_s']:.0f}) | {b['train_minutes']:.1f} ({b['images_per_s']:.0f}) |")
    macs = stem["multiply_adds"]
    speed = rows["rotation"]["stock"]["images_per_s"] / rows["rotation"]["3x3"]["images_per_s"]
    compared = {"rotation": "rotation prediction", "layer4_from_rotation": "layer4+fc transfer",
                "full_from_rotation": "whole-network transfer"}
    diffs = {what: 100 * (rows[n]["3x3"]["final_acc"] - rows[n]["stock"]["final_acc"]) for n, what in compared.items()}
    wins = [w for w, d in diffs.items() if d > 0]
    verdict = ("The 3x3 stem beats the stock network on all three" if len(wins) == len(diffs) else
               f"The 3x3 stem beats the stock network on {', '.join(wins) or 'none'} of the three")
    stem_minutes = sum(r["3x3"]["train_minutes"] for r in rows.values())
    stock_minutes = sum(r["stock"]["train_minutes"] for r in rows.values())
    fewer = all(r["3x3"]["epochs"] <= r["stock"]["epochs"] for r in rows.values())
    lines += ["", f"{verdict} ({'; '.join(f'{w} {d:+.1f} points' for w, d in diffs.items())}), "
              f"{'in no more epochs but ' if fewer else ''}at {macs['3x3'] / macs['stock']:.1f}x the multiply-adds per {stem['image_size']}x{stem['image_size']} "
              f"image ({macs['3x3'] / 1e6:.0f} M against {macs['stock'] / 1e6:.0f} M, torch's FLOP counter), which "
              f"this CPU turns into {speed:.1f}x fewer rotation images per second. These {len(rows)} runs trained for "
              f"{stem_minutes:.0f} minutes against {stock_minutes:.0f} for their stock counterparts.",
              "", gap_sentence(rows["layer4_from_rotation"]["3x3"]["final_acc"], rows["layer4_from_random"]["3x3"]["final_acc"],
                               "3x3 stem, layer4+fc trained"),
              "", gap_sentence(rows["full_from_rotation"]["3x3"]["final_acc"], rows["full_from_random"]["3x3"]["final_acc"],
                               "3x3 stem, whole network trained"),
              "", whole_net_split(rows),
              "", configurations_line("stem", optional)]
    return "\n".join(lines)


def whole_net_split(rows):
    """The 3x3 stem's whole-network result from rotation against the stock network from random
    weights, split into what the architecture and what the pre-training adds."""
    stock_random = rows["full_from_random"]["stock"]["final_acc"]
    stem_random, stem_rotation = rows["full_from_random"]["3x3"]["final_acc"], rows["full_from_rotation"]["3x3"]["final_acc"]
    return (f"Whole network trained: the 3x3 stem from rotation stands at {100 * (stem_rotation - stock_random):+.1f} points "
            f"relative to the stock network trained from random weights; of that, {100 * (stem_random - stock_random):+.1f} "
            f"come from the architecture alone (both from random weights) and {100 * (stem_rotation - stem_random):+.1f} "
            "from the rotation pre-training (3x3 stem, rotation against random weights).")


def resumed_note(runs):
    """Which runs this execution resumed rather than started: its wall time then lacks their first epochs."""
    resumed = [r for r in runs if 0 < r["resumed_from_epoch"] < len(r["history"])]
    if not resumed:
        return ""
    return (" That execution resumed " + ", ".join(f"{r['name']} after epoch {r['resumed_from_epoch']} "
                                                  f"({sum(h['train_seconds'] for h in r['history'][:r['resumed_from_epoch']]) / 60:.1f} "
                                                  "training minutes)" for r in resumed)
            + " of an interrupted one, which the wall time leaves out; the training minutes in the table count "
              "every epoch.")


def render(runs, optional, template, results):
    final = {n: runs[n]["final"]["test_acc"] for n in runs}
    stock = read_runs(results / "stock_forward", runs)
    noise_rows, noise = repeat_noise(stock, results)
    values = {
        "results_table": results_table(optional["summary"]["rows"]),
        "config_table": config_table(runs),
        "speed_section": speed_section(runs, optional),
        "precision_section": precision_section(optional["precision_check"], optional["stock_forward/precision_check"]),
        "few_labels_section": few_labels_section(optional),
        "few_label_seeds_section": few_label_seeds_section(optional["few_label_seeds"], optional["few_labels"]),
        "imagenette_section": imagenette_section(optional),
        "stem_section": stem_section(optional),
        "few_labels_trend": few_labels_trend(optional["few_labels"]),
        "confusion_section": confusion_section(optional["rotation_confusion"]),
        "rotation_best": pct(runs["rotation"]["best"]["test_acc"]),
        "rotation_best_epoch": runs["rotation"]["best"]["epoch"],
        "rotation_final": pct(final["rotation"]),
        "layer4_gap": gap_sentence(final["layer4_from_rotation"], final["layer4_from_random"],
                                   "With only layer4 and fc trained"),
        "full_gap": gap_sentence(final["full_from_rotation"], final["full_from_random"],
                                 "With the whole network trained"),
        "full_gap_reading": full_gap_reading(final),
        "earlier_run_section": earlier_run_section(noise_rows, noise),
        "forward_section": forward_section(runs, stock, noise, optional),
        "layer4_rot_train": pct(runs["layer4_from_rotation"]["final"]["train_acc"]),
        "layer4_rand_train": pct(runs["layer4_from_random"]["final"]["train_acc"]),
        "device": runs["rotation"]["device"],
        "n_train": runs["rotation"]["n_train"], "n_test": runs["rotation"]["n_test"],
    }
    return template.format(**values)


def update_readme(readme, rows):
    text = readme.read_text()
    block = ("<!-- results-table: written by tools/make_report.py from results/ -->\n"
             + results_table(rows) + "\n<!-- /results-table -->")
    pattern = re.compile(r"<!-- results-table.*?<!-- /results-table -->", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme} has no <!-- results-table --> ... <!-- /results-table --> block")
    readme.write_text(pattern.sub(lambda m: block, text))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--template", default=str(ROOT / "tools" / "report_template.md"))
    parser.add_argument("--report", default=str(ROOT / "report.md"))
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    args = parser.parse_args()
    runs, optional = load(Path(args.results))
    Path(args.report).write_text(render(runs, optional, Path(args.template).read_text(), Path(args.results)))
    update_readme(Path(args.readme), optional["summary"]["rows"])
    print(f"written {args.report} and the results table of {args.readme}")


if __name__ == "__main__":
    main()

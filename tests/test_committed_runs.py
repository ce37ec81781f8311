"""The committed results and rotation checkpoint are what a fresh clone shows Tasks 1-3 from:
they must still match the runs the notebook's `real` preset would train, or a fresh clone would
quietly train them all again (and a change of a run's configuration must come with new results)."""
import pytest
import torch

from conftest import ROOT, refuse_training

CPU = torch.device("cpu")


def cifar10_sized(nb, n_train=45_000):
    """An ImageData with the notebook's CIFAR-10 sizes (a run's signature counts the images: 45,000
    training, 5,000 validation held out of them, 10,000 test) and no memory cost."""
    image = torch.zeros(1, 3, 32, 32, dtype=torch.uint8)
    def split(n):
        return image.expand(n, -1, -1, -1), torch.zeros(n, dtype=torch.int64)
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = split(n_train), split(5_000), split(10_000)
    return nb.ImageData(train_x, train_y, test_x, test_y, [f"class{i}" for i in range(10)], torch.zeros(3),
                        torch.ones(3), val_x=val_x, val_y=val_y)


STALE = "the committed results do not match this run: it would train again"


def committed(log, seed=0):
    """train_run's arguments for a run shown from the committed results and checkpoints."""
    return dict(device=CPU, checkpoint_dir=ROOT / "checkpoints", seed=seed, results_dir=ROOT / "results", log=log)


# The real preset's seeds whose runs are committed: for Tasks 1-3, each seed's rotation network and
# its transfer runs by kind and initialisation; for section 10, the seeds whose every few-label run is.
BOTH = ("rotation", "random")
COMMITTED_TASK_RUNS = {seed: {"layer4": BOTH, "full": BOTH} for seed in (0, 1, 2)}
COMMITTED_FEW_LABEL_SEEDS = [0, 1, 2]


def of_seed(nb, seed):
    """The suffix of seed `seed`'s run names (the notebook's SEED is 0) and the rotation network its
    classifiers start from, as the notebook's Experiment names them."""
    seeded = nb.Experiment({}, CPU, ROOT / "checkpoints", ROOT / "results", seed=0).for_seed(seed)
    return seeded.name_suffix, seeded.best_checkpoint("rotation")


@pytest.mark.parametrize("seed", COMMITTED_TASK_RUNS)
def test_a_fresh_clone_shows_tasks_1_to_3_from_the_committed_results_without_training(nb, monkeypatch, seed):
    refuse_training(nb, monkeypatch, STALE)
    config, data, logged = nb.resolve_preset("real"), cifar10_sized(nb), []
    where, (suffix, trunk) = committed(logged.append, seed), of_seed(nb, seed)
    torch.manual_seed(seed)
    rotation = nb.train_run(f"rotation{suffix}", nb.build_resnet18(4), data, "rotation", "all", config["rotation"],
                            needs_weights=True, **where)
    assert rotation["loaded"] and rotation["seed"] == seed
    inits = COMMITTED_TASK_RUNS[seed]
    for kind, scope in (("layer4", "layer4+fc"), ("full", "all")):
        for init in inits[kind]:
            model = nb.make_classifier(init, 10, trunk, seed=seed)
            run = nb.train_run(f"{kind}_from_{init}{suffix}", model, data, "classes", scope, config[kind], **where)
            assert run["loaded"] and run["final"]["test_acc"] > 0.5
    assert not logged       # a run shown from its results file prints nothing; its cell says so once


@pytest.mark.parametrize("seed", COMMITTED_FEW_LABEL_SEEDS)
def test_a_fresh_clone_shows_the_few_label_runs_from_the_committed_results_without_training(nb, monkeypatch, seed):
    refuse_training(nb, monkeypatch, STALE)
    config = nb.resolve_preset("real")
    few = config["few_labels"]
    where, (suffix, trunk) = committed(lambda line: None, seed), of_seed(nb, seed)
    shown = 0
    for per_class in few["per_class"][:-1]:                  # the last count is Tasks 2-3 themselves
        n_train = len(nb.repeat_to(torch.arange(10 * per_class), few["min_epoch_images"]))
        for kind, scope in (("layer4", "layer4+fc"), ("full", "all")):
            for init in ("rotation", "random"):
                model = nb.make_classifier(init, 10, trunk, seed=seed)
                run = nb.train_run(f"few{per_class}_{kind}_from_{init}{suffix}", model, cifar10_sized(nb, n_train),
                                   "classes", scope, config[kind], **where)
                shown += run["loaded"]
    assert few["per_class"][-1] * 10 == 45_000 and shown == 4 * (len(few["per_class"]) - 1)


def test_a_fresh_clone_shows_section_15s_run_from_the_committed_results_without_training(nb, monkeypatch):
    """Section 15's whole network from random weights, trained for the images of Tasks 1 and 3."""
    refuse_training(nb, monkeypatch, STALE)
    config, logged = nb.resolve_preset("real"), []
    model = nb.make_classifier("random", 10, ROOT / "checkpoints" / "rotation.best.pt", seed=0)
    run = nb.train_run("full_matched_from_random", model, cifar10_sized(nb), "classes", "all", config["full_matched"],
                       **committed(logged.append))
    assert run["loaded"] and len(run["history"]) == config["full_matched"]["epochs"] == 55
    assert not logged


def test_a_fresh_clone_shows_the_stem_sections_committed_runs_without_training(nb, monkeypatch):
    """Section 11's runs and its rotation checkpoint are committed: a fresh clone shows all five."""
    refuse_training(nb, monkeypatch, STALE)
    config, data, logged = nb.resolve_preset("real"), cifar10_sized(nb), []
    where = committed(logged.append)
    torch.manual_seed(0)
    rotation = nb.train_run("stem_rotation", nb.build_resnet18(4, nb.stem_3x3), data, "rotation", "all",
                            config["stem_rotation"], needs_weights=True, **where)
    assert rotation["loaded"] and rotation["config"] == config["rotation"]    # like for like
    for kind, scope in (("layer4", "layer4+fc"), ("full", "all")):
        for init in ("rotation", "random"):
            model = nb.make_classifier(init, 10, ROOT / "checkpoints" / "stem_rotation.best.pt", seed=0, stem=nb.stem_3x3)
            run = nb.train_run(f"stem_{kind}_from_{init}", model, data, "classes", scope, config[f"stem_{kind}"], **where)
            assert run["loaded"] and run["final"]["test_acc"] > 0.5
    assert not logged


@pytest.mark.parametrize("method", ["simclr", "barlow"])
def test_a_fresh_clone_shows_the_contrastive_pretraining_from_its_committed_results_and_trunk(nb, monkeypatch, method):
    """Section 14's pre-training runs are committed as their results files and half-precision
    encoders: a fresh clone shows each run without training it, and the classifiers start from
    that encoder."""
    refuse_training(nb, monkeypatch, STALE)
    config, data, logged = nb.resolve_preset("real"), cifar10_sized(nb), []
    where = committed(logged.append)
    objective = nb.ContrastiveObjective.of(method, config["contrastive"])
    model = nb.ContrastiveNet(objective.head, seed=0)
    run = nb.train_run(method, model, data, objective, "all", config[method], needs_weights=False, **where)
    assert run["loaded"] and len(run["history"]) == config[method]["epochs"]
    committed_trunk = ROOT / "checkpoints" / f"{method}.trunk.pt"
    written = committed_trunk.stat().st_mtime_ns
    assert nb.trunk_file(run, ROOT / "checkpoints") == committed_trunk
    assert committed_trunk.stat().st_mtime_ns == written               # the committed file, not rewritten
    assert nb.make_classifier(method, 10, committed_trunk).trunk_source["init"] == method
    assert not logged


# Each method's committed fine-tuning runs, by prefix ("": every label; "fewN_": N labels per class) and kind.
COMMITTED_FINE_TUNING = {method: {"": ("layer4", "full"), **{f"few{n}_": ("layer4", "full") for n in (20, 100, 400, 500, 1000)}}
                         for method in ("simclr", "barlow")}


@pytest.mark.parametrize("method", COMMITTED_FINE_TUNING)
def test_a_fresh_clone_shows_the_fine_tuning_from_a_contrastive_encoder_from_the_committed_results(nb, monkeypatch, method):
    """Tasks 2 and 3's recipes and section 10's counts from a committed contrastive encoder: every
    committed run is shown from its results file, and each whole network's best model is committed too."""
    refuse_training(nb, monkeypatch, STALE)
    config, few = nb.resolve_preset("real"), nb.resolve_preset("real")["few_labels"]
    where, trunk = committed(lambda line: None), ROOT / "checkpoints" / f"{method}.trunk.pt"
    sizes = {"": 45_000, **{f"few{n}_": len(nb.repeat_to(torch.arange(10 * n), few["min_epoch_images"]))
                            for n in few["per_class"][:-1]}}
    runs = {}
    for prefix, kinds in COMMITTED_FINE_TUNING[method].items():
        for kind in kinds:
            model = nb.make_classifier(method, 10, trunk, seed=0)
            name, scope = f"{prefix}{kind}_from_{method}", {"layer4": "layer4+fc", "full": "all"}[kind]
            runs[name] = nb.train_run(name, model, cifar10_sized(nb, sizes[prefix]), "classes", scope, config[kind], **where)
            assert runs[name]["loaded"] and runs[name]["trunk"]["init"] == method
    if "full" in COMMITTED_FINE_TUNING[method][""]:
        best = nb.load_checkpoint(ROOT / "checkpoints" / f"full_from_{method}.best.pt")
        assert best["model"]["fc.weight"].shape == (10, 512) and best["epoch"] == runs[f"full_from_{method}"]["best"]["epoch"]
        assert best["metrics"] == runs[f"full_from_{method}"]["best"]


def test_a_fresh_clone_shows_section_16s_freeze_depth_runs_from_the_committed_results(nb, monkeypatch):
    """Every depth of section 16's table from the rotation trunk and from random weights, with Task
    2's recipe: shown from the committed results (layer4+fc is Task 2's own run)."""
    refuse_training(nb, monkeypatch, STALE)
    config, logged = nb.resolve_preset("real"), []

    class Committed:
        seed = 0

        def run(self, name, model, data, task, scope, kind):
            return nb.train_run(name, model, data, task, scope, config[kind], **committed(logged.append))

    runs = nb.freeze_depth_runs(Committed(), cifar10_sized(nb), ROOT / "checkpoints" / "rotation.best.pt",
                                {"rotation": None, "random": None})
    shown = [run for scope, by_init in runs.items() if scope != "layer4+fc" for run in by_init.values()]
    assert len(shown) == 8 and all(run["loaded"] and run["config"] == config["layer4"] for run in shown)
    assert not logged


def test_a_fresh_clone_shows_section_16s_probes_from_the_committed_file(nb, monkeypatch):
    """The probe at every depth of every network section 16 probes is in results/depth_probe.json,
    for the networks and settings the notebook has now: a fresh clone computes none of them."""
    def refuse(*args, **kwargs):
        raise AssertionError("the committed probe file does not match this network: it would be probed again")

    monkeypatch.setattr(nb, "depth_probe", refuse)
    checkpoints = ROOT / "checkpoints"
    networks = nb.probe_networks(10, checkpoints / "rotation.best.pt", checkpoints / "full_from_random.best.pt",
                                 {m: checkpoints / f"{m}.trunk.pt" for m in ("simclr", "barlow")}, seed=0)
    probes = nb.depth_probes(networks, cifar10_sized(nb), "fp32", ROOT / "results" / "depth_probe.json", nb.DEPTH_PROBE)
    assert list(probes) == ["random", "rotation", "supervised", "simclr", "barlow"]
    assert all(set(p["classes"]) == set(nb.PROBE_STAGES) for p in probes.values()) and probes["rotation"]["rotation"]

"""Section 16: the probe at every depth (its features, its file, its accuracy) and freezing at every depth."""
import json

import pytest
import torch

from conftest import tiny_config, tiny_data

STAGE_CHANNELS = {"stem": 64, "layer1": 64, "layer2": 128, "layer3": 256, "layer4": 512}
STAGE_SIDES = {"stem": 8, "layer1": 8, "layer2": 4, "layer3": 2, "layer4": 1}   # of a 32x32 image


@pytest.mark.parametrize("grid", [1, 2, 4])
def test_stage_features_have_the_shape_the_grid_implies_at_every_depth(nb, grid):
    data = tiny_data(nb, n_train=8)
    model = nb.build_resnet18(10)
    features, labels = nb.stage_features(model, data.train_x[:5], data, "fp32", grid=grid, batch_size=3)
    assert labels is None and list(features) == list(nb.PROBE_STAGES)
    for stage, f in features.items():
        side = min(grid, STAGE_SIDES[stage])     # a map smaller than the grid stays as it is
        assert f.shape == (5, STAGE_CHANNELS[stage] * side * side), stage
        assert f.dtype == torch.float32 and torch.isfinite(f).all()


def test_layer4_features_are_what_fc_sees_and_rotations_come_with_their_labels(nb):
    data = tiny_data(nb, n_train=8)
    model = nb.build_resnet18(10).eval()
    features, _ = nb.stage_features(model, data.train_x[:6], data, "fp32", grid=2)
    fc_input = nb.pooled_features(model, data.train_x[:6], data, 4, "fp32")
    torch.testing.assert_close(features["layer4"], fc_input)
    rotated, labels = nb.stage_features(model, data.train_x[:6], data, "fp32", grid=2, batch_size=4, rotations=True)
    assert len(rotated["stem"]) == 24
    # batches of 4 and 2 images, each in all four rotations
    assert labels.tolist() == [k for n in (4, 2) for k in range(4) for _ in range(n)]
    turned = nb.rotate(nb.normalize(data.train_x[:4], data.mean, data.std), 1)
    direct = torch.nn.functional.adaptive_avg_pool2d(nb.stage_outputs(model, turned)["layer2"], 2).flatten(1)
    torch.testing.assert_close(rotated["layer2"][4:8], direct.detach())


def test_probe_accuracy_agrees_with_a_direct_count(nb):
    g = torch.Generator().manual_seed(3)
    features, weight, bias = torch.randn(200, 7, generator=g), torch.randn(7, 4, generator=g), torch.randn(4, generator=g)
    labels = torch.randint(0, 4, (200,), generator=g)
    logits = (features @ weight + bias).tolist()
    right = sum(max(range(4), key=lambda c: row[c]) == y for row, y in zip(logits, labels.tolist()))
    assert nb.probe_accuracy(weight, bias, features, labels) == pytest.approx(right / 200)
    assert 0 < right < 200


def test_depth_probes_are_computed_once_and_again_for_a_changed_network(nb, tmp_path, monkeypatch):
    data = tiny_data(nb, n_train=60, n_test=15).hold_out(4)
    model = nb.make_classifier("random", 3, seed=0)
    settings = dict(grid=2, weight_decays=[0.0, 0.01], max_iter=5)
    path = tmp_path / "depth_probe.json"
    first = nb.depth_probes({"random": (model, None)}, data, "fp32", path, settings)["random"]
    assert set(first["classes"]) == set(nb.PROBE_STAGES) and first["rotation"] is None
    assert all(0 <= first["classes"][s]["test_acc"] <= 1 for s in nb.PROBE_STAGES)
    assert json.loads(path.read_text())["random"]["classes"] == first["classes"]
    calls = []
    monkeypatch.setattr(nb, "depth_probe", lambda *a, **k: calls.append(k) or {s: {"test_acc": 0.5} for s in nb.PROBE_STAGES})
    again = nb.depth_probes({"random": (model, None)}, data, "fp32", path, settings)["random"]
    assert calls == [] and again["classes"] == first["classes"]
    model.trunk_source = {"init": "rotation", "trunk_sha1": "another"}
    nb.depth_probes({"random": (model, 2)}, data, "fp32", path, settings)
    assert len(calls) == 2 and calls[1]["rotations_per_class"] == 2    # classes, then rotations


def train_one_epoch(nb, model, scope, tmp_path):
    nb.train_run("freeze", model, tiny_data(nb), task="classes", scope=scope, cfg=tiny_config(nb, epochs=1),
                 device=torch.device("cpu"), checkpoint_dir=tmp_path, log=lambda *a: None)


# What each scope's name says it trains, written out here rather than read from SCOPES.
NAMED_BY_SCOPE = {"fc": ["fc"], "layer4+fc": ["layer4", "fc"], "layer3..fc": ["layer3", "layer4", "fc"],
                  "layer2..fc": ["layer2", "layer3", "layer4", "fc"],
                  "all": ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"]}


@pytest.mark.parametrize("scope", list(NAMED_BY_SCOPE))
def test_freezing_from_a_stage_keeps_everything_below_and_trains_everything_above(nb, tmp_path, scope):
    assert scope in nb.FREEZE_SCOPES
    model = nb.make_classifier("random", 3, seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train_one_epoch(nb, model, scope, tmp_path)
    after = model.state_dict()
    trained = NAMED_BY_SCOPE[scope]
    below = [k for k in before if k.split(".")[0] not in trained]
    above = [k for k in before if k.split(".")[0] in trained]
    assert above and (scope == "all" or any("running_var" in k for k in below))
    for key in below:        # weights and BatchNorm statistics alike
        assert torch.equal(before[key], after[key]), f"{scope}: {key} changed although it is frozen"
    for key in above:
        assert not torch.equal(before[key], after[key]), f"{scope}: {key} did not train"


def test_freeze_depth_runs_use_task_2s_recipe_at_every_depth_and_reuse_task_2(nb, tmp_path):
    torch.manual_seed(1)
    nb.train_run("rot", nb.build_resnet18(4), tiny_data(nb), task="rotation", scope="all", cfg=tiny_config(nb, epochs=1),
                 device=torch.device("cpu"), checkpoint_dir=tmp_path, log=lambda *a: None)
    calls = []

    class Recorder:
        seed = 0

        def run(self, name, model, data, task, scope, kind):
            calls.append((name, scope, kind, model.trunk_source["init"]))
            return name

    task2 = {"rotation": "task 2 from rotation", "random": "task 2 from random"}
    runs = nb.freeze_depth_runs(Recorder(), tiny_data(nb), tmp_path / "rot.best.pt", task2)
    assert list(runs) == ["fc", "layer4+fc", "layer3..fc", "layer2..fc", "all"] and runs["layer4+fc"] == task2
    assert {kind for _, _, kind, _ in calls} == {"layer4"} and len(calls) == 8
    assert ("freeze_layer3_from_rotation", "layer3..fc", "layer4", "rotation") in calls
    assert runs["all"]["random"] == "freeze_all_from_random"


def test_the_rotation_probe_trains_on_at_most_the_smallest_classs_count_in_four_rotations(nb, monkeypatch):
    data = tiny_data(nb, n_train=60, n_test=15).hold_out(4)       # 16 training images per class
    seen = []
    monkeypatch.setattr(nb, "linear_probe", lambda train, val, test, **k: seen.append((len(train[0]), len(val[0]), len(test[0])))
                        or {"test_acc": 0.0})
    probes = nb.depth_probe(nb.build_resnet18(4), data, "fp32", grid=2, rotations_per_class=500, max_iter=3)
    assert set(probes) == set(nb.PROBE_STAGES) and set(seen) == {(4 * 48, 4 * 12, 4 * 15)}
    seen.clear()
    nb.depth_probe(nb.build_resnet18(4), data, "fp32", grid=2, rotations_per_class=5, max_iter=3)
    assert set(seen) == {(4 * 15, 4 * 12, 4 * 15)}

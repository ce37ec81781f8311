"""Freezing (weights and BatchNorm statistics), loading the rotation trunk, refusing misfits."""
import pytest
import torch
import torchvision

from conftest import tiny_config, tiny_data

FROZEN_PREFIXES = ("conv1.", "bn1.", "layer1.", "layer2.", "layer3.")


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train_one_epoch(nb, model, scope, tmp_path, task="classes"):
    data = tiny_data(nb)
    nb.train_run("probe", model, data, task=task, scope=scope, cfg=tiny_config(nb, epochs=1),
                 device=torch.device("cpu"), checkpoint_dir=tmp_path, log=lambda *a: None)


def test_layer4_fc_scope_changes_only_layer4_and_fc(nb, tmp_path):
    model = nb.make_classifier("random", 3, seed=0)
    before = snapshot(model)
    train_one_epoch(nb, model, "layer4+fc", tmp_path)
    after = model.state_dict()
    frozen = [k for k in before if k.startswith(FROZEN_PREFIXES)]
    assert any("running_mean" in k for k in frozen)
    for key in frozen:          # weights and BatchNorm running statistics alike
        assert torch.equal(before[key], after[key]), f"{key} changed although it is frozen"
    for key in ("layer4.0.conv1.weight", "layer4.1.bn2.weight", "layer4.0.bn1.running_mean", "fc.weight"):
        assert not torch.equal(before[key], after[key]), f"{key} did not train"
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("layer4.", "fc.")) for n in trainable)


def test_whole_network_scope_trains_the_stem_too(nb, tmp_path):
    model = nb.make_classifier("random", 3, seed=0)
    before = snapshot(model)
    train_one_epoch(nb, model, "all", tmp_path)
    after = model.state_dict()
    for key in ("conv1.weight", "bn1.running_mean", "layer2.0.conv1.weight", "fc.weight"):
        assert not torch.equal(before[key], after[key])


def test_frozen_modules_stay_in_eval_mode(nb):
    model = nb.build_resnet18(10)
    nb.set_train_mode(model, "layer4+fc")
    assert model.layer4.training and model.fc.training
    assert not model.bn1.training and not model.layer3[1].bn2.training
    nb.set_train_mode(model, "all")
    assert all(m.training for m in model.modules())
    with pytest.raises(KeyError, match="layer3\\+fc"):
        nb.set_trainable(model, "layer3+fc")


@pytest.fixture
def rotation_checkpoint(nb, tmp_path):
    torch.manual_seed(1)
    model = nb.build_resnet18(4)
    train_one_epoch(nb, model, "all", tmp_path, task="rotation")
    return tmp_path / "probe.best.pt"


def test_fine_tuning_starts_from_the_rotation_trunk_with_a_new_head(nb, rotation_checkpoint):
    saved = torch.load(rotation_checkpoint, weights_only=True)["model"]
    model = nb.make_classifier("rotation", 10, rotation_checkpoint, seed=0)
    own = model.state_dict()
    trunk_keys = [k for k in saved if not k.startswith("fc.")]
    assert len(trunk_keys) == len(own) - 2
    for key in trunk_keys:
        assert torch.equal(own[key], saved[key]), f"{key} was not loaded"
    assert isinstance(model.fc, torch.nn.Linear)
    assert model.fc.out_features == 10 and saved["fc.weight"].shape[0] == 4

    random_model = nb.make_classifier("random", 10, seed=0)
    assert not torch.equal(random_model.state_dict()["layer3.0.conv1.weight"], saved["layer3.0.conv1.weight"])
    assert torch.equal(random_model.fc.weight, model.fc.weight)   # same seed: only the trunk differs


def test_missing_rotation_checkpoint_says_to_run_task_1(nb, tmp_path):
    with pytest.raises(FileNotFoundError, match="run Task 1 first"):
        nb.make_classifier("rotation", 10, tmp_path / "rotation.best.pt")


def test_checkpoints_that_do_not_fit_are_refused(nb, tmp_path, rotation_checkpoint):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"definitely not a checkpoint")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        nb.make_classifier("rotation", 10, garbage)

    foreign = tmp_path / "foreign.pt"
    torch.save(nb.build_resnet18(4).state_dict(), foreign)
    with pytest.raises(ValueError, match="not written by this notebook"):
        nb.make_classifier("rotation", 10, foreign)

    ckpt = torch.load(rotation_checkpoint, weights_only=True)
    other_arch = tmp_path / "resnet34.pt"
    torch.save({**ckpt, "model": torchvision.models.resnet34(num_classes=4).state_dict()}, other_arch)
    with pytest.raises(ValueError, match="does not fit this model"):
        nb.make_classifier("rotation", 10, other_arch)

    classes_run = tmp_path / "classes.pt"
    torch.save({**ckpt, "task": "classes"}, classes_run)
    with pytest.raises(ValueError, match="not a rotation run"):
        nb.make_classifier("rotation", 10, classes_run)

    with pytest.raises(ValueError, match="holds a 'rotation' run, not a imagenet21k run"):
        nb.make_classifier("imagenet21k", 10, rotation_checkpoint)


def test_3x3_stem_keeps_twice_the_resolution_into_layer1_and_costs_about_4x(nb):
    stock, stem = nb.build_resnet18(4), nb.build_resnet18(4, stem=nb.stem_3x3)
    assert stem.conv1.kernel_size == (3, 3) and stem.conv1.stride == (1, 1)
    assert isinstance(stem.maxpool, torch.nn.MaxPool2d)
    x = torch.zeros(2, 3, 32, 32)
    for model, side in ((stock, 8), (stem, 16)):
        model.eval()
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        assert h.shape == (2, 64, side, side)
        assert model(x).shape == (2, 4)
    ratio = nb.multiply_adds(stem, 32) / nb.multiply_adds(stock, 32)
    assert 3.5 < ratio < 4.5


def test_3x3_stem_classifier_loads_its_own_trunk_and_refuses_a_stock_one(nb, tmp_path, rotation_checkpoint):
    torch.manual_seed(2)
    stem_dir = tmp_path / "stem"
    train_one_epoch(nb, nb.build_resnet18(4, stem=nb.stem_3x3), "all", stem_dir, task="rotation")
    saved = torch.load(stem_dir / "probe.best.pt", weights_only=True)["model"]
    model = nb.make_classifier("rotation", 10, stem_dir / "probe.best.pt", seed=0, stem=nb.stem_3x3)
    assert torch.equal(model.state_dict()["conv1.weight"], saved["conv1.weight"])
    assert torch.equal(model.state_dict()["layer4.1.conv2.weight"], saved["layer4.1.conv2.weight"])
    with pytest.raises(ValueError, match="does not fit this model.*conv1.weight"):
        nb.make_classifier("rotation", 10, rotation_checkpoint, seed=0, stem=nb.stem_3x3)


def test_fine_tuning_run_is_not_loaded_after_its_rotation_trunk_changed(nb, tmp_path, rotation_checkpoint):
    data = tiny_data(nb)
    cfg = tiny_config(nb, epochs=1)
    def fine_tune(init):
        model = nb.make_classifier(init, 3, rotation_checkpoint, seed=0)
        return nb.train_run(f"ft_{init}", model, data, task="classes", scope="layer4+fc", cfg=cfg,
                            device=torch.device("cpu"), checkpoint_dir=tmp_path, log=lambda *a: None)
    first = fine_tune("rotation")
    assert first["trunk"]["init"] == "rotation" and len(first["trunk"]["trunk_sha1"]) == 40
    assert fine_tune("random")["trunk"] == {"init": "random"}
    assert fine_tune("rotation")["loaded"]                          # same trunk: shown

    ckpt = torch.load(rotation_checkpoint, weights_only=True)
    ckpt["model"]["fc.weight"] += 1                                  # the head is not part of the trunk
    nb.save_atomic(ckpt, rotation_checkpoint)
    assert fine_tune("rotation")["loaded"]
    ckpt["model"]["layer2.0.bn1.running_var"] *= 2                   # a retrained rotation network
    nb.save_atomic(ckpt, rotation_checkpoint)
    with pytest.raises(ValueError, match=r"differs in \['trunk'\].*rotation network it starts from"):
        fine_tune("rotation")
    assert fine_tune("random")["loaded"]                            # random init does not depend on it

"""The measurement itself: what evaluation averages over and the mode it measures in, the choice of
the best epoch, and what a run's signature covers, each against a direct computation."""
import pytest
import torch
import torch.nn.functional as F

from conftest import refuse_training, tiny_config, tiny_data

CPU = torch.device("cpu")


def quiet(*args):
    pass


def trained_bn_model(nb, num_classes):
    """A ResNet18 whose BatchNorm running statistics are no longer the initial ones."""
    torch.manual_seed(0)
    model = nb.build_resnet18(num_classes)
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(8, 3, 32, 32) * 2 + 0.5)
    return model


def per_image(nb, model, data, task):
    """Loss and accuracy computed one image (and, for rotation, one rotation) at a time."""
    model.eval()
    losses, correct = [], []
    with torch.no_grad():
        for image, label in zip(data.test_x, data.test_y):
            x = nb.normalize(image[None], data.mean, data.std)
            pairs = [(torch.rot90(x, k, dims=(2, 3)), k) for k in range(4)] if task == "rotation" else [(x, label.item())]
            for view, target in pairs:
                logits = model(view)
                losses.append(F.cross_entropy(logits, torch.tensor([target])).item())
                correct.append(logits.argmax(1).item() == target)
    return sum(losses) / len(losses), sum(correct) / len(correct)


@pytest.mark.parametrize("task", ["classes", "rotation"])
def test_evaluation_equals_a_per_image_computation_for_any_batch_size(nb, task):
    data = tiny_data(nb, n_test=23)
    model = trained_bn_model(nb, 4 if task == "rotation" else 3)
    loss, acc = per_image(nb, model, data, task)
    for batch_size in (1, 5, 23, 64):        # 5 leaves a last batch of 3
        metrics = nb.evaluate(model, data, task, batch_size, "fp32")
        assert metrics["test_loss"] == pytest.approx(loss, rel=1e-4), batch_size
        assert metrics["test_acc"] == pytest.approx(acc), batch_size


def test_evaluation_uses_running_statistics_and_leaves_the_network_as_it_was(nb):
    data = tiny_data(nb, n_test=16).hold_out(2)
    for scope in ("all", "layer4+fc"):
        model = trained_bn_model(nb, 3)
        nb.set_train_mode(model, scope)          # as in the middle of training
        modes = {name: m.training for name, m in model.named_modules()}
        before = {k: v.clone() for k, v in model.state_dict().items()}
        nb.evaluate(model, data, "classes", 4, "fp32")
        nb.evaluate(model, data, "classes", 4, "fp32", split="val")
        assert {name: m.training for name, m in model.named_modules()} == modes, scope
        assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()), scope
    # Running statistics, not the batch's: an image scores the same alone as among 15 others.
    model = trained_bn_model(nb, 3).train()
    logits = [next(nb.held_out_logits(model, data, "classes", b, "fp32"))[0][0] for b in (1, 16)]
    assert torch.allclose(logits[0], logits[1], atol=1e-5)


def scripted_losses(nb, monkeypatch, losses):
    """Make evaluate report the given loss per split and epoch (accuracies stay measured)."""
    evaluate = nb.evaluate
    scripted = {split: iter(values) for split, values in losses.items()}

    def fake(*args, **kwargs):
        split = args[5] if len(args) > 5 else kwargs.get("split", "test")
        metrics = evaluate(*args, **kwargs)
        return {**metrics, f"{split}_loss": next(scripted[split])}
    monkeypatch.setattr(nb, "evaluate", fake)


@pytest.mark.parametrize("losses", [[0.9, 0.4, 0.6, 0.5], [0.3, 0.4, 0.5, 0.6], [0.9, 0.8, 0.7, 0.1]])
def test_the_best_epoch_is_the_one_with_the_lowest_selection_loss(nb, tmp_path, monkeypatch, losses):
    data = tiny_data(nb, n_train=48, n_test=8)      # no validation split: the test loss chooses
    scripted_losses(nb, monkeypatch, {"test": losses})
    run = nb.train_run("b", nb.build_resnet18(3), data, "classes", "all", tiny_config(nb, epochs=4), CPU,
                       tmp_path, log=quiet)
    chosen = losses.index(min(losses)) + 1
    assert run["best"]["epoch"] == chosen and run["best"]["test_loss"] == min(losses)
    assert run["best"]["test_acc"] == run["history"][chosen - 1]["test_acc"]
    best = torch.load(tmp_path / "b.best.pt", weights_only=True)
    assert best["epoch"] == chosen and best["metrics"] == run["best"]


def changed(nb, field, value):
    """Another valid value of a run field."""
    if field in nb.OPTIONS:
        return next(v for v in nb.OPTIONS[field] if v != value)
    if isinstance(value, bool):
        return not value
    return value + 1 if isinstance(value, int) else value / 2 + 0.01


def test_changing_any_run_field_refuses_the_old_state_and_results_file(nb, tmp_path, monkeypatch):
    data, cfg = tiny_data(nb, n_train=32, n_test=8).hold_out(2), tiny_config(nb, epochs=1)
    where = dict(device=CPU, checkpoint_dir=tmp_path, results_dir=tmp_path / "results", log=quiet)
    nb.train_run("s", nb.build_resnet18(3), data, "classes", "all", cfg, **where)
    variants = {f"config.{field}": dict(cfg=cfg | {field: changed(nb, field, cfg[field])}) for field in cfg}
    variants |= {"seed": dict(seed=1), "scope": dict(scope="layer4+fc"),
                 "n_train": dict(data=data.select(torch.arange(20))),
                 "n_val": dict(data=tiny_data(nb, n_train=29, n_test=8).hold_out(1))}   # 26 train as before
    assert len(variants) == len(nb.RUN_DEFAULTS) + 4
    refuse_training(nb, monkeypatch, "a changed run was shown finished or trained")
    for what, change in variants.items():
        args = dict(cfg=cfg, scope="all", data=data) | change
        with pytest.raises(ValueError, match="different configuration"):       # the state refuses it
            nb.train_run("s", nb.build_resnet18(3), args.pop("data"), "classes", args.pop("scope"), **args, **where)
    (tmp_path / "s.state.pt").unlink()                  # with the results file alone, it trains again
    for what, change in variants.items():
        args = dict(cfg=cfg, scope="all", data=data) | change
        with pytest.raises(AssertionError, match="shown finished or trained"):
            nb.train_run("s", nb.build_resnet18(3), args.pop("data"), "classes", args.pop("scope"), **args, **where)
    shown = nb.train_run("s", nb.build_resnet18(3), data, "classes", "all", cfg, **where)
    assert shown["loaded"]                          # and unchanged, it is still shown

"""The quick preset and what it rests on: Part I alone, the flip-only augmentation, evaluation with
mirror images (rotation's 90 and 270 degrees trade places), and the parts a preset runs."""
import dataclasses
import json

import pytest
import torch
import torch.nn.functional as F

from conftest import NOTEBOOK, tiny_config, tiny_data


def top_row_images(n=6, size=8):
    """Images that are dark but for a bright top row: upright, and the same in the mirror."""
    x = torch.zeros(n, 3, size, size, dtype=torch.uint8)
    x[:, 0, 0, :] = 255
    return x


def side_oracle(model, x, mode):
    """A rotation 'network' that finds the bright row: top (upright), left (rotated by 90 degrees
    counter-clockwise), bottom (180) or right (270)."""
    c = x[:, 0]
    sides = torch.stack([c[:, 0, :].mean(1), c[:, :, 0].mean(1), c[:, -1, :].mean(1), c[:, :, -1].mean(1)], 1)
    return 10 * (sides - sides.mean(1, keepdim=True))


def test_flip_evaluation_of_rotation_reads_a_mirrored_90_degrees_as_270(nb, monkeypatch):
    data = tiny_data(nb, n_test=6)
    data = dataclasses.replace(data, test_x=top_row_images(), test_y=torch.zeros(6, dtype=torch.int64))
    monkeypatch.setattr(nb, "forward", side_oracle)
    plain = nb.evaluate(torch.nn.Identity(), data, "rotation", 4, "fp32")
    flipped = nb.evaluate(torch.nn.Identity(), data, "rotation", 4, "fp32", flip=True)
    assert plain["test_acc"] == 1.0 and flipped["test_acc"] == 1.0
    # Both views agree once the mirror's outputs are put back in place, so the loss is unchanged;
    # without the swap, rotations 90 and 270 would each average two different answers.
    assert flipped["test_loss"] == pytest.approx(plain["test_loss"], rel=1e-5)
    mirrored = side_oracle(None, nb.normalize(torch.rot90(top_row_images(), 1, dims=(2, 3)), data.mean, data.std).flip(3), "fp32")
    assert mirrored.argmax(1).tolist() == [3] * 6


def test_flip_evaluation_of_classes_averages_the_softmax_of_image_and_mirror(nb):
    data = tiny_data(nb, n_test=10)
    torch.manual_seed(0)
    model = nb.build_resnet18(3).eval()
    with torch.no_grad():
        model.fc.weight.mul_(30)        # outputs far apart: no near-ties for rounding to break
    x = nb.normalize(data.test_x, data.mean, data.std)
    with torch.no_grad():
        p = (model(x).softmax(1) + model(x.flip(3)).softmax(1)) / 2
    expected_loss = F.nll_loss(p.log(), data.test_y).item()
    metrics = nb.evaluate(model, data, "classes", 3, "fp32", flip=True)
    assert metrics["test_loss"] == pytest.approx(expected_loss, rel=1e-4)
    assert metrics["test_acc"] == pytest.approx((p.argmax(1) == data.test_y).double().mean().item())
    assert metrics["test_loss"] != pytest.approx(nb.evaluate(model, data, "classes", 3, "fp32")["test_loss"], rel=1e-4)


def measured_splits(nb, monkeypatch):
    """The splits that nb.evaluate is asked for, in order, as the run asks."""
    calls, evaluate = [], nb.evaluate

    def counted(*args, **kwargs):
        calls.append(args[5] if len(args) > 5 else kwargs.get("split", "test"))
        return evaluate(*args, **kwargs)
    monkeypatch.setattr(nb, "evaluate", counted)
    return calls


@pytest.mark.parametrize("every_epoch", [True, False])
def test_a_run_measured_after_its_last_epoch_alone_evaluates_once_and_keeps_that_epoch(nb, tmp_path, monkeypatch,
                                                                                     every_epoch):
    data = tiny_data(nb, n_train=60, n_test=16).hold_out(4, seed=0)
    calls, logged = measured_splits(nb, monkeypatch), []
    run = nb.train_run("q", nb.build_resnet18(3), data, "classes", "all",
                       tiny_config(nb, epochs=3, eval_every_epoch=every_epoch), torch.device("cpu"), tmp_path,
                       log=logged.append, results_dir=tmp_path / "results")
    measured = [True] * 3 if every_epoch else [False, False, True]
    assert calls == ["test", "val"] * sum(measured)
    assert [("test_loss" in r, "val_loss" in r) for r in run["history"]] == [(m, m) for m in measured]
    assert ("held out: after the last epoch" in logged[0]) is not every_epoch
    if not every_epoch:
        # The one measured epoch is the checkpoint and the epoch of lowest test loss.
        assert run["best"]["epoch"] == 3 and nb.at_lowest_test_loss(run) == (3, run["final"]["test_acc"])
        assert torch.load(tmp_path / "q.best.pt", weights_only=True)["epoch"] == 3
    nb.plot_curves({"q": run}, tmp_path / "curves.png", "q")
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_the_flip_augmentation_mirrors_some_images_and_leaves_the_rest_as_they_were(nb):
    x = torch.randn(64, 3, 8, 8)
    out = nb.augment_batch(x, "flip", torch.Generator().manual_seed(0))
    same = (out == x).flatten(1).all(1)
    mirrored = (out == x.flip(3)).flatten(1).all(1)
    assert bool((same | mirrored).all()) and 10 < int(mirrored.sum()) < 54


def test_the_quick_preset_is_part_one_on_the_same_data_with_shorter_runs(nb):
    quick, real = nb.resolve_preset("quick"), nb.resolve_preset("real")
    assert quick["parts"] == ["I"] and real["parts"] == ["I", "II", "III"] and quick["seeds"] == 1
    for field in ("train_limit", "test_limit", "cifar_val_per_class"):
        assert quick[field] == real[field]          # the whole data set and the same validation split
    for kind in ("rotation", "layer4", "full"):
        assert quick[kind]["epochs"] < real[kind]["epochs"] and quick[kind]["eval_flip"] is True
        assert quick[kind]["eval_every_epoch"] is False
        assert real[kind]["eval_flip"] is False and real[kind]["eval_every_epoch"] is True


@pytest.mark.parametrize("parts", [["II"], "I", ["I", "IV"], ["I", "III"], ["II", "I"]])
def test_parts_other_than_a_run_of_parts_from_part_one_are_refused(nb, parts):
    with pytest.raises(ValueError, match="parts must be"):
        nb.resolve_preset("smoke", {"parts": parts})
    assert nb.resolve_preset("smoke", {"parts": ["I", "II"]})["parts"] == ["I", "II"]


def test_a_test_time_run_field_of_the_wrong_type_is_refused(nb):
    with pytest.raises(ValueError, match="rotation.eval_flip must be of type bool"):
        nb.resolve_preset("real", {"rotation": {"eval_flip": "yes"}})


@pytest.mark.parametrize("value", [["simclr"], "no", 0, None])
def test_a_switch_that_is_not_true_or_false_is_refused(nb, value):
    with pytest.raises(ValueError, match="CONTRASTIVE_SECTION must be True or False"):
        nb.check_switches(RETRAIN=False, CONTRASTIVE_SECTION=value)
    nb.check_switches(RETRAIN=False, STEM_SECTION=True, CONTRASTIVE_SECTION=False)


def test_every_cell_of_parts_two_and_three_that_runs_something_opens_with_its_part():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    heading = lambda text: next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                                and "".join(c["source"]).startswith(text))
    part2, part3 = heading("# Part II"), heading("# Part III")
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code" or "definitions" in cell["metadata"].get("tags", []):
            continue
        first = "".join(cell["source"]).splitlines()[0]
        expected = None if i < part2 else "%%part II" if i < part3 else "%%part III"
        assert (first if first.startswith("%%") else None) == expected, (i, first)

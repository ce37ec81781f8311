"""The class-folder loader and its errors; batched augmentation and batching."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_config, tiny_data, write_class_folder, write_png


def test_class_folder_is_read_exactly(nb, image_folder, tmp_path):
    root, written = image_folder
    data = nb.load_class_folder(root)
    assert data.classes == ["cat", "dog", "frog"]
    assert data.train_x.shape == (18, 3, 32, 32) and data.train_x.dtype == torch.uint8
    assert data.test_x.shape == (9, 3, 32, 32)
    assert data.train_y.tolist() == [0] * 6 + [1] * 6 + [2] * 6
    train_files = sorted(p for p in written if p.parts[-3] == "train")
    for i, path in enumerate(train_files):
        assert torch.equal(data.train_x[i], written[path])
        assert data.classes[data.train_y[i]] == path.parent.name
    pixels = data.train_x.double() / 255
    assert torch.allclose(data.mean.double(), pixels.mean(dim=(0, 2, 3)), atol=1e-5)
    assert torch.allclose(data.std.double(), pixels.permute(1, 0, 2, 3).reshape(3, -1).std(1, unbiased=False), atol=1e-5)


def test_missing_data_folder_says_what_to_do(nb, tmp_path):
    with pytest.raises(FileNotFoundError, match="data folder .* does not exist"):
        nb.load_class_folder(tmp_path / "nowhere")
    (tmp_path / "only_train" / "train" / "cat").mkdir(parents=True)
    write_png(torch.zeros(3, 32, 32, dtype=torch.uint8), tmp_path / "only_train" / "train" / "cat" / "a.png")
    with pytest.raises(FileNotFoundError, match="test"):
        nb.load_class_folder(tmp_path / "only_train")


def test_class_folder_missing_from_one_split_is_refused_before_any_image_is_decoded(nb, image_folder, monkeypatch):
    root, written = image_folder
    for path in written:
        if path.parts[-3] == "test" and path.parent.name == "dog":
            path.unlink()
    (root / "test" / "dog").rmdir()
    monkeypatch.setattr(nb, "decode_images", lambda *args, **kwargs: pytest.fail("decoded before the folders were checked"))
    with pytest.raises(ValueError, match="only in train \\['dog'\\]"):
        nb.load_class_folder(root)


def test_empty_class_folder_is_refused(nb, tmp_path):
    root = tmp_path / "data"
    write_class_folder(root)
    (root / "train" / "zebra").mkdir()
    with pytest.raises(FileNotFoundError, match="no valid file for the classes zebra.*A data folder holds"):
        nb.load_class_folder(root)


def test_image_of_another_size_is_named(nb, image_folder):
    root, _ = image_folder
    odd = root / "train" / "dog" / "big.png"
    write_png(torch.zeros(3, 40, 40, dtype=torch.uint8), odd)
    with pytest.raises(ValueError, match="differ in size.*big.png is 40x40"):
        nb.load_class_folder(root)


def test_files_that_are_not_images_are_passed_over(nb, image_folder):
    root, _ = image_folder
    (root / "train" / "cat" / "notes.txt").write_text("not an image")
    assert len(nb.load_class_folder(root).train_x) == 18


def test_corrupt_image_is_named(nb, image_folder):
    root, _ = image_folder
    (root / "test" / "frog" / "broken.png").write_bytes(b"\x89PNG but not really")
    with pytest.raises(ValueError, match="could not be decoded.*broken.png"):
        nb.load_class_folder(root)


def test_failed_download_points_to_a_local_copy(nb, tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(nb.torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(RuntimeError, match="set DATA_DIR to a local class-folder copy"):
        nb.load_cifar10_download(tmp_path)


def test_crop_and_flip_give_a_window_of_the_padded_image(nb):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 3, 8, 8, generator=g)
    out = nb.random_crop_flip(x, 4, g)
    padded = F.pad(x, (4, 4, 4, 4), mode="reflect")
    offsets = set()
    for i in range(len(x)):
        matches = [(dy, dx, flip) for dy in range(9) for dx in range(9) for flip in (False, True)
                   if torch.equal(out[i], (lambda w: w.flip(2) if flip else w)(padded[i, :, dy:dy + 8, dx:dx + 8]))]
        assert matches, f"image {i} is no window of its padded original"
        offsets.add(matches[0][:2])
    assert len(offsets) > 1, "every image got the same crop"


def column_ramp(n, size=32):
    """n images whose every pixel holds its column's position, -1 (left) to 1 (right)."""
    ramp = (torch.arange(size) + 0.5) / size * 2 - 1
    return ramp.expand(n, 3, size, size).clone()


def test_resized_crop_of_the_whole_image_is_the_image_or_its_mirror(nb):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 3, 16, 16, generator=g)
    out = nb.random_resized_crop_flip(x, g, area=(1.0, 1.0), aspect=(1.0, 1.0))
    flipped = [torch.allclose(o, xi.flip(2), atol=1e-5) for o, xi in zip(out, x)]
    kept = [torch.allclose(o, xi, atol=1e-5) for o, xi in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 0 < sum(flipped) < len(x)


def test_resized_crop_zooms_into_a_window_of_the_asked_area(nb):
    g = torch.Generator().manual_seed(0)
    x = column_ramp(64)
    out = nb.random_resized_crop_flip(x, g, area=(0.25, 0.25), aspect=(1.0, 1.0))
    assert out.shape == x.shape
    first, last = out[:, 0, 0, 0], out[:, 0, 0, -1]
    # A square of a quarter of the area spans half the width, whichever way round it is shown.
    assert torch.allclose((last - first).abs(), torch.full((64,), 1.0 * 31 / 32), atol=1e-4)
    assert (first.minimum(last) >= -1).all() and (first.maximum(last) <= 1).all()
    assert len({round(v, 3) for v in first.minimum(last).tolist()}) > 10, "every crop in one place"
    assert ((last - first) < 0).any() and ((last - first) > 0).any(), "no image flipped, or all"
    again = nb.random_resized_crop_flip(x, torch.Generator().manual_seed(0), area=(0.25, 0.25), aspect=(1.0, 1.0))
    assert torch.equal(out, again)


def test_training_batches_use_the_runs_augmentation(nb):
    data = tiny_data(nb, n_train=32)
    batches = {augment: next(nb.batches_for("classes", tiny_config(nb, augment=augment), data,
                                            torch.Generator().manual_seed(0)))[0]
               for augment in nb.OPTIONS["augment"]}
    # Pad-and-crop only moves pixels; a resized crop blends neighbours into new values.
    held = set(nb.normalize(data.train_x, data.mean, data.std).unique().tolist())
    assert set(batches["pad-crop"].unique().tolist()) <= held
    assert not set(batches["resized-crop"].unique().tolist()) <= held


def test_an_epoch_visits_each_image_once_and_drops_only_a_tiny_tail(nb):
    for n, batch_size in ((64, 16), (70, 16), (66, 16), (10, 32)):
        data = tiny_data(nb, n_train=n)
        labels = torch.arange(n)
        batches = list(nb.train_batches(data.train_x, labels, batch_size, data.mean, data.std,
                                        torch.Generator().manual_seed(0)))
        seen = torch.cat([y for _, y in batches])
        assert len(batches) == len(nb.batch_starts(n, batch_size))
        assert len(set(seen.tolist())) == len(seen)            # no image twice
        assert n - len(seen) < max(2, batch_size // 2)         # only a tail too small for BatchNorm


def test_limited_takes_a_seeded_subset(nb):
    data = tiny_data(nb, n_train=64, n_test=32)
    a = data.limited(10, 5, seed=1)
    b = data.limited(10, 5, seed=1)
    assert len(a.train_x) == 10 and len(a.test_x) == 5
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_y, b.test_y)
    assert len(data.limited(None, None).train_x) == 64


def test_balanced_subsets_hold_exactly_per_class_of_each_class_and_nest(nb):
    g = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 5, (1000,), generator=g)       # unbalanced on purpose
    subsets = {n: nb.balanced_subset(labels, n, 5, seed=3) for n in (2, 10, 40)}
    for n, idx in subsets.items():
        assert len(set(idx.tolist())) == len(idx) == 5 * n                 # no repeats
        assert torch.bincount(labels[idx], minlength=5).tolist() == [n] * 5
    assert set(subsets[2].tolist()) <= set(subsets[10].tolist()) <= set(subsets[40].tolist())
    assert torch.equal(nb.balanced_subset(labels, 10, 5, seed=3), subsets[10])   # seeded
    assert not torch.equal(nb.balanced_subset(labels, 10, 5, seed=4), subsets[10])


def test_balanced_subset_refuses_more_than_a_class_has(nb):
    labels = torch.tensor([0] * 10 + [1] * 3)
    with pytest.raises(ValueError, match="class 1 has only 3"):
        nb.balanced_subset(labels, 5, 2)
    with pytest.raises(ValueError, match="class 2 has only 0"):       # a class with no image at all
        nb.balanced_subset(labels, 1, 3)


def test_repeated_subset_is_whole_copies_of_the_labelled_images(nb):
    data = tiny_data(nb, n_train=60, n_classes=3)
    labelled = nb.balanced_subset(data.train_y, 4, 3, seed=0)
    epoch = nb.few_label_data(data, 4, 50, seed=0)                     # what sections 10 and 14 train on
    assert len(epoch.train_x) == 12 * 5                                # ceil(50 / 12) whole copies
    assert torch.bincount(epoch.train_y, minlength=3).tolist() == [20, 20, 20]
    assert torch.equal(epoch.train_x[:12], data.train_x[labelled])     # images keep their labels
    assert torch.equal(epoch.train_y[:12], data.train_y[labelled])
    assert torch.equal(epoch.test_x, data.test_x) and torch.equal(epoch.test_y, data.test_y)
    assert len(nb.repeat_to(labelled, 5)) == 12                        # never cut below one copy


def test_each_seed_trains_on_its_own_few_label_subsets_and_reuses_its_own_task_runs(nb, tmp_path, monkeypatch):
    data = tiny_data(nb, n_train=60, n_classes=3)
    trained = []     # (seed, per_class, kind, training labels' images, trunk) of every call

    def recorded(experiment, kind, scope, subset, trunk, name_prefix=""):
        trained.append((experiment.seed, name_prefix, kind, subset.train_x, trunk))
        return {init: {"name": f"{name_prefix}{kind}_from_{init}"} for init in nb.INITS}

    monkeypatch.setattr(nb, "classification_runs", recorded)
    experiment = nb.Experiment({}, torch.device("cpu"), tmp_path, tmp_path)
    few_cfg = {"per_class": [2, 5, 20], "min_epoch_images": 30}      # 20 per class: every training image
    by_seed = {seed: nb.few_label_runs_of_seed(experiment.for_seed(seed), data, few_cfg, f"trunk{seed}",
                                               {"rotation": "r", "layer4_from_rotation": f"task2 seed {seed}"})
               for seed in (0, 1)}
    for seed, prefix, kind, images, trunk in trained:
        own = nb.few_label_data(data, int(prefix[3:-1]), 30, seed).train_x
        assert torch.equal(images, own) and trunk == f"trunk{seed}"
    subsets = {(seed, prefix): images for seed, prefix, _, images, _ in trained}
    assert not torch.equal(subsets[0, "few2_"], subsets[1, "few2_"])   # another seed, other images
    assert len(trained) == 2 * 2 * 2                                     # 2 seeds x 2 counts x 2 scopes
    assert by_seed[1][20] == {"layer4_from_rotation": "task2 seed 1"}
    assert set(by_seed[0][5]) == {f"{k}_from_{i}" for k in ("layer4", "full") for i in nb.INITS}


def test_val_folder_serves_as_held_out_split(nb, tmp_path):
    written = write_class_folder(tmp_path / "nette", n_train=4, n_test=2)
    (tmp_path / "nette" / "test").rename(tmp_path / "nette" / "val")
    data = nb.load_class_folder(tmp_path / "nette")
    assert len(data.train_x) == 12 and len(data.test_x) == 6
    val_images = [img for path, img in written.items() if "test" in path.parts]
    assert all(any(torch.equal(img, x) for x in data.test_x) for img in val_images)


def test_resize_data_resizes_both_splits_and_recomputes_statistics(nb):
    data = tiny_data(nb, n_train=8, n_test=4, size=64)
    data.train_x[:, 0] = 200                                           # a red-heavy training set
    small = nb.resize_data(data, 32)
    assert small.train_x.shape == (8, 3, 32, 32) and small.test_x.shape == (4, 3, 32, 32)
    assert small.train_x.dtype == torch.uint8 and (small.train_x[:, 0] == 200).all()
    assert torch.allclose(small.mean, nb.channel_stats(small.train_x)[0])
    assert nb.resize_data(small, 32) is small


def test_hold_out_moves_a_balanced_seeded_validation_split_out_of_the_training_images(nb):
    data = tiny_data(nb, n_train=60, n_test=9, n_classes=3)
    split = data.hold_out(4, seed=0)
    assert len(split.val_x) == 12 and len(split.train_x) == 48
    assert torch.bincount(split.val_y, minlength=3).tolist() == [4, 4, 4]
    images = lambda x: {bytes(image.numpy().tobytes()) for image in x}
    assert not images(split.train_x) & images(split.val_x)                         # disjoint
    assert images(split.train_x) | images(split.val_x) == images(data.train_x)     # nothing lost
    assert torch.equal(split.test_x, data.test_x) and torch.equal(split.mean, data.mean)
    assert torch.equal(data.hold_out(4, seed=0).val_x, split.val_x)
    assert not torch.equal(data.hold_out(4, seed=1).val_x, split.val_x)
    assert split.limited(10, 5).val_x is split.val_x and len(split.select([0, 1]).val_x) == 12
    assert split.split("val")[0] is split.val_x and split.split("test")[1] is split.test_y
    with pytest.raises(ValueError, match="no split 'val'"):
        data.split("val")                                                          # none held out
    with pytest.raises(ValueError, match="already has a validation split"):
        split.hold_out(1)
    with pytest.raises(ValueError, match="has only 20"):
        data.hold_out(21)

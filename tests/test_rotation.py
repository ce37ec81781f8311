"""Rotation semantics: spatial dimensions only, labels equal k, all-four mode covers every image."""
import numpy as np
import pytest
import torch

from conftest import tiny_config, tiny_data


def distinct_images(n=5, c=3, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, size, size, generator=g)


def test_rotating_back_by_minus_k_restores_the_image(nb):
    x = distinct_images()
    for k in range(4):
        rotated = nb.rotate(x, k)
        assert torch.equal(nb.rotate(rotated, -k), x)
        if k:
            assert not torch.equal(rotated, x)


def test_rotation_turns_each_channel_alone(nb):
    # Channels hold different content, so rotating over (C, H) would show up here.
    x = distinct_images(n=2, c=3, size=8)
    for k in range(4):
        rotated = nb.rotate(x, k)
        assert rotated.shape == x.shape
        for c in range(3):
            expected = np.rot90(x[:, c].numpy(), k, axes=(1, 2))
            assert np.array_equal(rotated[:, c].numpy(), expected)


def test_rotation_by_one_is_ninety_degrees_counter_clockwise(nb):
    x = torch.zeros(1, 3, 4, 4)
    x[0, :, 0, 3] = 1.0                       # a mark in the top-right corner
    top_left = nb.rotate(x, 1)[0, :, 0, 0]
    assert torch.equal(top_left, torch.ones(3))


def test_a_rotation_batch_brings_every_image_once_per_rotation(nb):
    x = distinct_images(n=6)
    rotated, labels = nb.rotation_batch(x)
    assert rotated.shape == (24, 3, 8, 8)
    assert labels.tolist() == [k for k in range(4) for _ in range(6)]
    for k in range(4):
        assert torch.equal(nb.rotate(rotated[labels == k], -k), x)


def test_rotation_refuses_non_square_images(nb):
    with pytest.raises(ValueError, match="square"):
        nb.rotation_batch(torch.zeros(2, 3, 8, 6))


def test_rotation_task_batches_are_four_times_the_source_batch(nb):
    data = tiny_data(nb, n_train=32)
    cfg = tiny_config(nb, batch_size=8)
    batches = list(nb.batches_for("rotation", cfg, data, torch.Generator().manual_seed(0)))
    assert len(batches) == 4
    for x, y in batches:
        assert x.shape == (32, 3, 32, 32) and x.dtype == torch.float32
        assert torch.bincount(y, minlength=4).tolist() == [8, 8, 8, 8]


def test_rotation_confusion_counts_every_test_image_at_every_rotation(nb, monkeypatch):
    data = tiny_data(nb, n_test=30, n_classes=3)

    def always_upright(model, x, mode):
        return torch.tensor([10.0, 0.0, 0.0, 0.0]).repeat(len(x), 1)

    monkeypatch.setattr(nb, "forward", always_upright)
    analysis = nb.rotation_confusion(torch.nn.Identity(), data, batch_size=7, precision_mode="fp32")
    assert analysis["confusion"] == [[30, 0, 0, 0]] * 4
    assert analysis["accuracy_by_class_and_rotation"] == {c: [1.0, 0.0, 0.0, 0.0] for c in data.classes}
    assert analysis["accuracy_by_class"] == {c: 0.25 for c in data.classes}

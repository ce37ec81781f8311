"""Shared fixtures: the notebook's definition cells as a module, and small synthetic data."""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from notebook_definitions import NOTEBOOK, load_definitions  # noqa: E402


@pytest.fixture(scope="session")
def nb():
    return load_definitions()


def write_png(image_chw, path):
    Image.fromarray(image_chw.permute(1, 2, 0).numpy()).save(path)


def write_class_folder(root, classes=("cat", "dog", "frog"), n_train=6, n_test=3, size=32, seed=0):
    """A train/<class>/*.png and test/<class>/*.png tree of random images; returns what was written."""
    g = torch.Generator().manual_seed(seed)
    written = {}
    for split, n in (("train", n_train), ("test", n_test)):
        for name in classes:
            folder = Path(root) / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                img = torch.randint(0, 256, (3, size, size), dtype=torch.uint8, generator=g)
                path = folder / f"{i:04d}.png"
                write_png(img, path)
                written[path] = img
    return written


@pytest.fixture
def image_folder(tmp_path):
    root = tmp_path / "data"
    written = write_class_folder(root)
    return root, written


def tiny_data(nb, n_train=64, n_test=32, n_classes=3, size=32, seed=0):
    """An ImageData of random images, small enough to train ResNet18 on in a second or two."""
    g = torch.Generator().manual_seed(seed)
    train_x = torch.randint(0, 256, (n_train, 3, size, size), dtype=torch.uint8, generator=g)
    test_x = torch.randint(0, 256, (n_test, 3, size, size), dtype=torch.uint8, generator=g)
    mean, std = nb.channel_stats(train_x)
    return nb.ImageData(train_x, torch.arange(n_train) % n_classes, test_x,
                        torch.arange(n_test) % n_classes, [f"c{i}" for i in range(n_classes)],
                        mean, std)


def tiny_config(nb, **changes):
    return {**nb.RUN_DEFAULTS, "epochs": 2, "batch_size": 16, "eval_batch_size": 32,
            "precision": "fp32", **changes}


def interrupt_in_second_epoch(nb, monkeypatch):
    """Make the next run stop with a KeyboardInterrupt in its second epoch (a Ctrl-C, a kernel
    interrupt), once its first epoch has finished."""
    evaluate = nb.evaluate
    calls = []

    def crash_in_second_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(nb, "evaluate", crash_in_second_epoch)


def refuse_training(nb, monkeypatch, why="a finished run was trained again"):
    """Make any training epoch fail the test: for runs that must be shown, not trained."""
    def refuse(*args, **kwargs):
        raise AssertionError(why)

    monkeypatch.setattr(nb, "train_epoch", refuse)

"""The matrix form of small-map convolutions that benchmarks/speed_levers.py measures is exact."""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import speed_levers  # noqa: E402


def test_convolutions_on_small_maps_equal_their_dense_matrices():
    torch.manual_seed(0)
    for conv, side in ((torch.nn.Conv2d(8, 6, 3, stride=1, padding=1, bias=False), 2),
                       (torch.nn.Conv2d(8, 6, 3, stride=2, padding=1, bias=False), 2),
                       (torch.nn.Conv2d(8, 6, 3, stride=2, padding=1, bias=False), 4),
                       (torch.nn.Conv2d(8, 6, 1, stride=2, padding=0, bias=False), 4),
                       (torch.nn.Conv2d(8, 6, 3, stride=1, padding=1, bias=False), 1)):
        x = torch.randn(5, 8, side, side)
        assert torch.allclose(speed_levers.conv_as_matmul(conv, x), conv(x), atol=1e-5), (conv, side)


def test_layer3_and_layer4_in_matrix_form_give_the_same_outputs_and_gradients():
    assert speed_levers.dense_matches_convolution() < 1e-5

"""The notebook's fast CPU forward: convolutions on 2x2 and 1x1 maps as matrix products, bf16
throughout, channels-last memory. It must compute the same function as the stock network."""
import sys
from pathlib import Path

import pytest
import torch

from conftest import tiny_config, tiny_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import speed_levers  # noqa: E402  (its matrix-form check runs the notebook's functions)

BF16 = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
needs_bf16 = pytest.mark.skipif(not BF16, reason="this CPU has no bf16 support")


@pytest.mark.parametrize("kernel, stride, side", [(3, 1, 2), (3, 2, 2), (3, 2, 4), (1, 2, 4), (3, 1, 1),
                                                  (1, 2, 2)])
def test_a_convolution_equals_its_dense_matrix(nb, kernel, stride, side):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(8, 6, kernel, stride=stride, padding=kernel // 2, bias=False)
    x = torch.randn(5, 8, side, side)
    assert torch.allclose(nb.conv_as_matrix_product(conv, x), conv(x), atol=1e-5)


def test_layer3_and_layer4_in_matrix_form_give_the_same_outputs_and_gradients():
    # The figure that results/speed_levers.json records and the report quotes.
    assert speed_levers.matrix_form_max_difference() < 1e-5


@pytest.mark.parametrize("stem, size, expected", [(None, 32, 8), ("3x3", 32, 3), (None, 64, 3)])
def test_fast_forward_uses_matrix_products_exactly_on_the_small_maps(nb, monkeypatch, stem, size, expected):
    # 32x32, stock stem: layer3 maps are 2x2 after its first conv (5 convs), layer4's are 1x1 (3 more
    # with the 2x2 downsample); the 3x3 stem or a 64x64 image leaves only layer4 on a 2x2 map.
    seen = []
    dense = nb.conv_as_matrix_product

    def counted(conv, x):
        assert max(x.shape[-2:]) <= 2
        seen.append(tuple(x.shape[-2:]))
        return dense(conv, x)

    monkeypatch.setattr(nb, "conv_as_matrix_product", counted)
    model = nb.build_resnet18(10, stem and nb.stem_3x3)
    nb.forward(model, torch.randn(2, 3, size, size), "cpu-bf16-fast")
    assert len(seen) == expected


@needs_bf16
def test_fast_forward_matches_the_fp32_network_and_trains_every_parameter(nb):
    torch.manual_seed(0)
    model = nb.build_resnet18(10).train()
    x = torch.randn(16, 3, 32, 32)
    reference = model(x)
    mode = nb.run_precision({"precision": "auto"}, torch.device("cpu"))
    assert mode == "cpu-bf16-fast"
    nb.memory_layout(model, mode)
    logits = nb.forward(model, nb.memory_layout(x, mode), mode)
    assert logits.dtype == torch.float32
    assert (logits - reference).abs().max() < 0.1 * reference.abs().max()   # bf16 rounding, not a bug
    logits.sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_only_the_fast_and_cuda_modes_use_channels_last(nb):
    x = torch.randn(2, 3, 8, 8)
    for mode in ("cpu-bf16-fast", "cuda-bf16", "cuda-fp16"):
        assert nb.memory_layout(x, mode).is_contiguous(memory_format=torch.channels_last)
    assert nb.memory_layout(x, "fp32") is x

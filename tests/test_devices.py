import json
"""Where students run the notebook: precision chosen from the device's properties (a T4, a V100,
an A100, CPUs with and without bf16, Apple MPS), the fp16 GradScaler's step, resuming a run on
another device or precision, how often checkpoints are written, and torchvision's CIFAR-10 path.
No GPU is needed: each device is described by the properties the notebook reads from it."""
import numpy as np
import pytest
import torch

from conftest import interrupt_in_second_epoch, tiny_config, tiny_data

CPU = torch.device("cpu")
T4 = {"type": "cuda", "capability": (7, 5), "name": "cuda (Tesla T4)", "cpu_bf16": False}
V100 = {"type": "cuda", "capability": (7, 0), "name": "cuda (Tesla V100-SXM2-16GB)", "cpu_bf16": False}
A100 = {"type": "cuda", "capability": (8, 0), "name": "cuda (NVIDIA A100-SXM4-40GB)", "cpu_bf16": False}
H100 = {"type": "cuda", "capability": (9, 0), "name": "cuda (NVIDIA H100 80GB HBM3)", "cpu_bf16": False}
CPU_BF16 = {"type": "cpu", "capability": None, "name": "cpu", "cpu_bf16": True}
CPU_PLAIN = {"type": "cpu", "capability": None, "name": "cpu", "cpu_bf16": False}
MPS = {"type": "mps", "capability": None, "name": "mps", "cpu_bf16": False}


def quiet(*args):
    pass


@pytest.mark.parametrize("props, expected", [
    (T4, "cuda-fp16"), (V100, "cuda-fp16"), (A100, "cuda-bf16"), (H100, "cuda-bf16"),
    (CPU_BF16, "cpu-bf16-fast"), (CPU_PLAIN, "fp32"), (MPS, "fp32")])
def test_auto_precision_follows_the_device(nb, props, expected):
    assert nb.choose_precision("auto", props) == expected


def test_fp32_asked_for_overrides_the_device_and_nothing_else_is_accepted(nb):
    for props in (T4, A100, CPU_BF16, CPU_PLAIN, MPS):
        assert nb.choose_precision("fp32", props) == "fp32"
    for asked in ("bf16", "fp16"):
        with pytest.raises(ValueError, match=f"unknown precision '{asked}' in full; choose one of"):
            nb.resolve_preset("real", {"full": {"precision": asked}})


def test_this_cpus_properties_are_read_as_torch_reports_them(nb):
    props = nb.device_properties(CPU)
    assert props["type"] == "cpu" and props["capability"] is None
    assert props["cpu_bf16"] == (torch.backends.mkldnn.is_available()
                                 and torch.ops.mkldnn._is_mkldnn_bf16_supported())


@pytest.mark.parametrize("mode, dtype", [("cuda-bf16", torch.bfloat16), ("cuda-fp16", torch.float16)])
def test_the_cuda_forward_autocasts_to_the_chosen_dtype(nb, monkeypatch, mode, dtype):
    asked = []
    real_autocast = torch.autocast

    def recording_autocast(device_type, dtype=None, **kwargs):
        asked.append((device_type, dtype))
        return real_autocast("cpu", dtype=torch.bfloat16, enabled=False)

    monkeypatch.setattr(nb.torch, "autocast", recording_autocast)
    logits = nb.forward(nb.build_resnet18(4).eval(), torch.randn(2, 3, 32, 32), mode)
    assert asked == [("cuda", dtype)] and logits.dtype == torch.float32


def overflowing_scaler():
    """A real GradScaler (on the CPU, as torch allows) whose first scale overflows fp32 gradients."""
    return torch.amp.GradScaler("cpu", init_scale=2.0 ** 127)


def test_a_step_the_grad_scaler_skips_leaves_weights_momentum_and_schedule_alone(nb):
    model = torch.nn.Linear(3, 1)
    cfg = {**nb.RUN_DEFAULTS, "lr": 0.1}
    optimizer, schedule = nb.make_optimizer(model, cfg, total_steps=10, warmup_steps=2)
    scaler = overflowing_scaler()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lr = optimizer.param_groups[0]["lr"]
    loss = (model(torch.ones(4, 3)) * 100).sum()
    assert nb.optimizer_step(loss, optimizer, schedule, scaler) is False
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert optimizer.state_dict()["state"] == {}                 # no momentum from an inf gradient
    assert schedule.last_epoch == 0 and optimizer.param_groups[0]["lr"] == lr
    assert scaler.get_scale() == 2.0 ** 126

    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    assert nb.optimizer_step((model(torch.ones(4, 3)) * 100).sum(), optimizer, schedule, scaler) is True
    assert schedule.last_epoch == 1
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * nb.lr_factor(1, 10, 2))
    assert not torch.equal(model.weight, before["weight"]) and torch.isfinite(model.weight).all()


def test_without_a_scaler_every_step_is_taken(nb):
    model = torch.nn.Linear(3, 1)
    optimizer, schedule = nb.make_optimizer(model, nb.RUN_DEFAULTS, total_steps=10, warmup_steps=2)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    assert nb.optimizer_step(model(torch.ones(4, 3)).sum(), optimizer, schedule, scaler) is True
    assert schedule.last_epoch == 1


def as_if_fp16(nb, monkeypatch):
    """Runs on this CPU take the notebook's fp16 path: the GradScaler enabled (on the CPU, where
    torch allows it), the CUDA autocast a no-op without CUDA."""
    monkeypatch.setattr(nb, "choose_precision", lambda *args: "cuda-fp16")


def short_run(nb, checkpoint_dir, epochs=2, log=quiet, **kwargs):
    torch.manual_seed(0)
    return nb.train_run("r", nb.build_resnet18(3), tiny_data(nb), "classes", "all",
                        tiny_config(nb, epochs=epochs), CPU, checkpoint_dir, log=log, **kwargs)


@pytest.mark.filterwarnings("ignore:.*CUDA is not available")
def test_the_fp16_loop_keeps_its_scaler_state_and_resumes_it(nb, tmp_path, monkeypatch):
    as_if_fp16(nb, monkeypatch)
    run = short_run(nb, tmp_path)
    state = torch.load(tmp_path / "r.state.pt", weights_only=True)
    assert run["precision"] == "cuda-fp16" and state["scaler"]["scale"] > 0
    assert all(np.isfinite(r["train_loss"]) for r in run["history"])


def write_state_as_if_from(state_path, device_name, precision, generator_device="cuda"):
    """Rewrite a CPU run's state as a CUDA session would have written it: a CUDA generator's
    16-byte state, fp16's scaler state, and the device and precision in its history."""
    state = torch.load(state_path, weights_only=True)
    state["generator"] = torch.zeros(16, dtype=torch.uint8)
    state["generator_device"] = generator_device
    state["scaler"] = {"scale": 512.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                       "growth_interval": 2000, "_growth_tracker": 7}
    for record in state["history"]:
        record.update(device=device_name, precision=precision)
    torch.save(state, state_path)


def interrupted_as_if_on(nb, tmp_path, monkeypatch, device_name, precision):
    """A two-epoch run stopped after its first epoch, its state rewritten as if a GPU wrote it."""
    interrupt_in_second_epoch(nb, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        short_run(nb, tmp_path)
    monkeypatch.undo()
    write_state_as_if_from(tmp_path / "r.state.pt", device_name, precision)


def test_a_run_started_on_a_gpu_resumes_on_the_cpu_and_says_what_trained_it(nb, tmp_path, monkeypatch):
    interrupted_as_if_on(nb, tmp_path, monkeypatch, "cuda (Tesla T4)", "cuda-fp16")
    logged = []
    run = short_run(nb, tmp_path, log=logged.append)
    text = "\n".join(logged)
    assert "resuming after epoch 1 of 2" in text
    assert "written on cuda: the data order after epoch 1 is drawn afresh" in text
    assert [r["device"] for r in run["history"]] == ["cuda (Tesla T4)", "cpu"]
    assert run["device"] == "cuda (Tesla T4), cpu" and run["precision"] == "cuda-fp16, fp32"
    assert np.isfinite(run["final"]["test_loss"])


@pytest.mark.filterwarnings("ignore:.*CUDA is not available")
def test_a_bf16_state_resumes_into_the_fp16_loop_with_a_fresh_scaler(nb, tmp_path, monkeypatch):
    interrupted_as_if_on(nb, tmp_path, monkeypatch, "cuda (NVIDIA A100-SXM4-40GB)", "cuda-bf16")
    state = torch.load(tmp_path / "r.state.pt", weights_only=True)
    state["scaler"] = {}                             # what a bf16 run's disabled scaler saves
    torch.save(state, tmp_path / "r.state.pt")
    as_if_fp16(nb, monkeypatch)
    run = short_run(nb, tmp_path)
    assert run["precision"] == "cuda-bf16, cuda-fp16" and len(run["history"]) == 2


def test_a_shown_run_reports_the_device_that_trained_it_not_this_one(nb, tmp_path):
    short_run(nb, tmp_path)
    record = json.loads((tmp_path / "r.json").read_text())
    record.update(device="cuda (Tesla T4)", precision="cuda-fp16")
    (tmp_path / "r.json").write_text(json.dumps(record))
    logged = []
    run = short_run(nb, tmp_path, log=logged.append)
    assert run["loaded"] and logged == []
    assert run["device"] == "cuda (Tesla T4)" and run["precision"] == "cuda-fp16"


def count_saves(nb, monkeypatch):
    saved = []
    save = nb.save_atomic

    def counted(obj, path):
        saved.append(path.name)
        save(obj, path)

    monkeypatch.setattr(nb, "save_atomic", counted)
    return saved


def test_the_resume_state_is_written_after_every_epoch_and_the_best_model_when_it_improves(nb, tmp_path, monkeypatch):
    saved = count_saves(nb, monkeypatch)
    run = short_run(nb, tmp_path, epochs=3)
    improved = sum(1 for i, r in enumerate(run["history"])
                   if all(r["test_loss"] < h["test_loss"] for h in run["history"][:i]))
    assert saved.count("r.state.pt") == 3
    assert saved.count("r.best.pt") == improved            # the best model only when it changes
    assert torch.load(tmp_path / "r.state.pt", weights_only=True)["epoch"] == 3


def test_an_interrupted_run_keeps_its_last_finished_epoch(nb, tmp_path, monkeypatch):
    interrupt_in_second_epoch(nb, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        short_run(nb, tmp_path, epochs=3)
    state = torch.load(tmp_path / "r.state.pt", weights_only=True)
    assert state["epoch"] == 1 and len(state["history"]) == 1


class FakeCIFAR10:
    """torchvision.datasets.CIFAR10's shape and types: data (N, 32, 32, 3) uint8 numpy, targets a
    list of ints, classes a list of names."""
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    calls = []

    def __init__(self, root, train=True, download=False):
        self.calls.append((str(root), train, download))
        n = 20 if train else 10
        rng = np.random.default_rng(1 if train else 2)
        self.data = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        self.targets = [int(t) for t in rng.integers(0, 10, n)]


def test_the_download_path_turns_torchvisions_cifar10_into_the_notebooks_tensors(nb, tmp_path, monkeypatch):
    FakeCIFAR10.calls.clear()
    monkeypatch.setattr(nb.torchvision.datasets, "CIFAR10", FakeCIFAR10)
    data = nb.load_data(None, str(tmp_path))
    assert FakeCIFAR10.calls == [(str(tmp_path), True, True), (str(tmp_path), False, True)]
    train, test = FakeCIFAR10(tmp_path, True), FakeCIFAR10(tmp_path, False)
    for x, y, split in ((data.train_x, data.train_y, train), (data.test_x, data.test_y, test)):
        assert x.dtype == torch.uint8 and x.shape == (len(split.data), 3, 32, 32) and x.is_contiguous()
        assert torch.equal(x[3, :, 5, 7], torch.from_numpy(split.data[3, 5, 7]))     # channels first
        assert y.dtype == torch.int64 and y.tolist() == split.targets
    assert data.classes == FakeCIFAR10.classes
    mean, std = nb.channel_stats(data.train_x)
    assert torch.allclose(data.mean, mean) and torch.allclose(data.std, std)
    assert torch.allclose(data.mean, torch.from_numpy(train.data / 255).float().mean((0, 1, 2)), atol=1e-6)
    assert data.limited(8, 4).train_x.shape == (8, 3, 32, 32)      # and it goes on like a folder copy


def test_mps_asked_for_where_there_is_none_is_refused(nb):
    if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        with pytest.raises(ValueError, match="DEVICE='mps' was asked for but is not available"):
            nb.pick_device("mps")


def count_host_reads(monkeypatch):
    """Count the Python-level reads of a tensor's value (each one a wait for the GPU on CUDA)."""
    reads = []
    for name in ("item", "tolist", "__bool__", "__float__", "__int__", "cpu", "numpy"):
        real = getattr(torch.Tensor, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            reads.append(_name)
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counted)
    return reads


def test_a_training_epoch_reads_from_the_device_only_at_its_nan_checks(nb, monkeypatch):
    data = tiny_data(nb, n_train=16 * 60)
    cfg = tiny_config(nb, batch_size=16)
    model = nb.build_resnet18(4)
    optimizer, schedule = nb.make_optimizer(model, cfg, total_steps=60, warmup_steps=5)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    batches = nb.batches_for("rotation", cfg, data, torch.Generator().manual_seed(0))
    reads = count_host_reads(monkeypatch)
    _, _, seen = nb.train_epoch(model, "all", batches, nb.classification_step, optimizer, schedule, scaler, "fp32", cfg,
                                dict(total=60, disable=True))
    monkeypatch.undo()
    assert seen == 60 * 16 * 4           # every image in its four rotations
    assert reads == ["__bool__"] * 3          # steps 0, 25 and 50 of 60: the NaN check, nothing else


def test_an_evaluation_reads_from_the_device_once_for_the_loss_and_once_for_the_accuracy(nb, monkeypatch):
    data = tiny_data(nb, n_test=40)
    model = nb.build_resnet18(4)
    reads = count_host_reads(monkeypatch)
    metrics = nb.evaluate(model, data, "rotation", 8, "fp32")
    monkeypatch.undo()
    assert reads == ["tolist", "item"] and 0 <= metrics["test_acc"] <= 1

"""Section 14, contrastive pre-training: the two losses against their equations written out loop by
loop, the batched views, the SimCLR model, the runs through the one training loop, the encoders'
way into the classifiers, and the linear probe."""
import math

import pytest
import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms.v2.functional as TF

from conftest import tiny_config, tiny_data

CPU = torch.device("cpu")
SETTINGS = dict(simclr_temperature=0.5, barlow_lambda=0.005, simclr_head=[32, 16], barlow_head=[32, 32],
                crop_area=[0.2, 1.0], knn_k=3)


def quiet(*args):
    pass


def nt_xent_by_the_equation(z1, z2, tau):
    """Equation 1 of the assignment, one term per view, averaged over the 2N views."""
    z = torch.cat([z1, z2]).double()
    n2 = len(z)
    sim = lambda a, b: torch.dot(z[a], z[b]) / (z[a].norm() * z[b].norm())
    total = 0.0
    for i in range(n2):
        j = (i + n2 // 2) % n2
        denominator = sum(math.exp(sim(i, k) / tau) for k in range(n2) if k != i)
        total += -math.log(math.exp(sim(i, j) / tau) / denominator)
    return total / n2


def barlow_by_the_equations(z1, z2, lambd):
    """Equations 2 and 3 of the assignment, applied to the batch-centred embeddings."""
    a, b = (z.double() - z.double().mean(0) for z in (z1, z2))
    d = a.shape[1]
    c = [[(a[:, i] * b[:, j]).sum() / (a[:, i].pow(2).sum().sqrt() * b[:, j].pow(2).sum().sqrt())
          for j in range(d)] for i in range(d)]
    return sum((1 - c[i][i]) ** 2 for i in range(d)) + lambd * sum(c[i][j] ** 2 for i in range(d) for j in range(d) if j != i)


def test_nt_xent_is_equation_1(nb):
    g = torch.Generator().manual_seed(0)
    z1, z2 = torch.randn(6, 5, generator=g), torch.randn(6, 5, generator=g)
    for tau in (0.1, 0.5, 1.0):
        assert nb.nt_xent(z1, z2, tau).item() == pytest.approx(nt_xent_by_the_equation(z1, z2, tau), rel=1e-5)


def test_nt_xent_prefers_aligned_pairs_and_is_symmetric_in_its_views(nb):
    g = torch.Generator().manual_seed(1)
    z1 = torch.randn(64, 16, generator=g)
    aligned = z1 + 0.05 * torch.randn(64, 16, generator=g)
    shuffled = aligned[torch.randperm(64, generator=g)]
    assert nb.nt_xent(z1, aligned, 0.5) < nb.nt_xent(z1, shuffled, 0.5) - 1
    assert nb.nt_xent(z1, shuffled, 0.5).item() == pytest.approx(math.log(127), abs=0.3)   # chance
    assert nb.nt_xent(z1, aligned, 0.5).item() == pytest.approx(nb.nt_xent(aligned, z1, 0.5).item(), rel=1e-6)


def test_barlow_twins_loss_is_equations_2_and_3_on_centred_embeddings(nb):
    g = torch.Generator().manual_seed(2)
    z1, z2 = torch.randn(12, 4, generator=g) + 3, torch.randn(12, 4, generator=g) - 1   # offsets: centring matters
    for lambd in (0.0, 0.005, 1.0):
        expected = barlow_by_the_equations(z1, z2, lambd)
        assert nb.barlow_twins_loss(z1, z2, lambd).item() == pytest.approx(float(expected), rel=1e-4)


def test_barlow_twins_loss_is_zero_for_identical_decorrelated_standardised_embeddings(nb):
    hadamard = torch.tensor([[1.0]])
    for _ in range(3):
        hadamard = torch.cat([torch.cat([hadamard, hadamard], 1), torch.cat([hadamard, -hadamard], 1)])
    z = hadamard[:, 1:5]      # 8 examples, 4 dimensions: zero mean, unit variance, orthogonal columns
    assert nb.barlow_twins_loss(z, z, 0.005).item() == pytest.approx(0.0, abs=1e-6)
    assert nb.barlow_twins_loss(z, z[:, [1, 0, 2, 3]], 0.005).item() > 1        # swapped dimensions are not


def test_both_losses_are_finite_for_two_examples_and_constant_inputs_and_refuse_one(nb):
    for z1, z2 in ((torch.randn(2, 8), torch.randn(2, 8)), (torch.ones(4, 8), torch.ones(4, 8))):
        assert torch.isfinite(nb.nt_xent(z1, z2, 0.5)) and torch.isfinite(nb.barlow_twins_loss(z1, z2, 0.005))
    assert nb.barlow_twins_loss(torch.ones(4, 8), torch.ones(4, 8), 0.005).item() == pytest.approx(8.0)   # C = 0
    for loss in (lambda a, b: nb.nt_xent(a, b, 0.5), lambda a, b: nb.barlow_twins_loss(a, b, 0.005)):
        with pytest.raises(ValueError, match="N >= 2"):
            loss(torch.randn(1, 8), torch.randn(1, 8))
        with pytest.raises(ValueError, match="same N"):
            loss(torch.randn(4, 8), torch.randn(3, 8))


def test_pairs_found_counts_views_whose_nearest_view_is_their_pair(nb):
    z1 = torch.eye(4)
    z2 = torch.eye(4)[[0, 1, 3, 2]]      # images 2 and 3 have swapped second views
    assert nb.pairs_found(z1, z2).item() == 4       # 2 of 4 images, both views each
    assert nb.pairs_found(z1, z1 + 0.01).item() == 8


def test_grayscale_and_a_zero_colour_jitter_match_torchvision(nb):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(5, 3, 8, 8, generator=g)
    assert torch.allclose(nb.grayscale(x), TF.rgb_to_grayscale(x, num_output_channels=3), atol=1e-3)
    assert torch.allclose(nb.colour_jitter(x, g, 0, 0, 0, 0), x, atol=1e-5)
    grey = nb.grayscale(x)
    assert torch.allclose(nb.colour_jitter(grey, g, 0, 0, 0, 0.5), grey, atol=1e-4)   # a hue shift keeps grey grey
    jittered = nb.colour_jitter(x, g)
    assert jittered.shape == x.shape and 0 <= jittered.min() and jittered.max() <= 1
    assert not torch.allclose(jittered, x, atol=1e-2)


def test_contrastive_views_differ_between_draws_and_repeat_with_the_generator(nb):
    images = torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8)
    first = nb.contrastive_views(images, torch.Generator().manual_seed(0), (0.2, 1.0))
    again = nb.contrastive_views(images, torch.Generator().manual_seed(0), (0.2, 1.0))
    g = torch.Generator().manual_seed(0)
    one, two = nb.contrastive_views(images, g, (0.2, 1.0)), nb.contrastive_views(images, g, (0.2, 1.0))
    assert first.shape == (6, 3, 32, 32) and first.dtype == torch.float32 and 0 <= first.min() and first.max() <= 1
    assert torch.equal(first, again) and not torch.allclose(one, two)
    flat = torch.randint(0, 256, (6, 3, 1, 1), dtype=torch.uint8).expand(6, 3, 32, 32)   # one colour each
    plain = nb.contrastive_views(flat, g, (0.2, 1.0), jitter_p=0, grey_p=0)
    assert torch.allclose(plain, flat.float() / 255, atol=1e-5)        # a crop of one colour is that colour
    grey = nb.contrastive_views(images, g, (0.2, 1.0), grey_p=1)
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])


def test_the_simclr_model_returns_features_and_embeddings(nb):
    model = nb.ContrastiveNet([32, 16]).eval()
    h, z = model(torch.randn(3, 3, 32, 32))
    assert h.shape == (3, 512) and z.shape == (3, 16)
    assert isinstance(model.encoder.fc, torch.nn.Identity)
    assert [type(m).__name__ for m in model.head] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():             # the CPU's fast forward (in bf16) gives the encoder's features
        fast, plain = nb.forward(model.encoder, x, "cpu-bf16-fast"), model.encoder(x)
    assert fast.shape == (3, 512) and (fast - plain).abs().max() < 0.03 * plain.abs().max()
    with pytest.raises(ValueError, match="unknown contrastive method"):
        nb.ContrastiveObjective.of("byol", SETTINGS)


def contrastive_run(nb, tmp_path, method, settings=SETTINGS, epochs=2):
    objective = nb.ContrastiveObjective.of(method, settings)
    data = tiny_data(nb, n_train=48, n_test=16, n_classes=3).hold_out(2, seed=0)
    cfg = tiny_config(nb, epochs=epochs, batch_size=8, eval_batch_size=8)
    model = nb.ContrastiveNet(objective.head)
    run = nb.train_run(method, model, data, objective, "all", cfg, CPU, tmp_path, log=quiet, results_dir=tmp_path)
    return run, model, data, cfg


@pytest.mark.parametrize("method", ["simclr", "barlow"])
def test_a_contrastive_run_trains_through_the_one_loop_and_records_its_objective(nb, tmp_path, method):
    run, model, data, cfg = contrastive_run(nb, tmp_path, method)
    assert len(run["history"]) == 2 and run["task"] == method and run["objective"]["method"] == method
    record = run["history"][-1]
    assert 0 <= record["train_acc"] <= 1 and 0 <= record["test_acc"] <= 1 and 0 <= record["val_acc"] <= 1
    assert run["best"]["val_loss"] == min(r["val_loss"] for r in run["history"])
    # the kNN monitor is knn_accuracy of the encoder's features, test against training images
    best = torch.load(tmp_path / f"{method}.best.pt", weights_only=True)
    assert set(k.split(".")[0] for k in best["model"]) == {"encoder", "head"} and best["task"] == method
    encoder = nb.ContrastiveNet(SETTINGS[f"{method}_head"])
    encoder.load_state_dict(best["model"])
    bank = nb.pooled_features(encoder.encoder, data.train_x, data, 8, "fp32")
    test = nb.pooled_features(encoder.encoder, data.test_x, data, 8, "fp32")
    assert run["best"]["test_acc"] == pytest.approx(nb.knn_accuracy(bank, data.train_y, test, data.test_y, k=3))
    # a changed loss setting is another run: not shown finished from the old results file
    for settings, shown in (({**SETTINGS, "simclr_temperature": 0.2, "barlow_lambda": 0.01}, False), (SETTINGS, True)):
        objective = nb.ContrastiveObjective.of(method, settings)
        signature = nb.run_signature(method, objective, "all", cfg, data, 0)
        record = nb.finished_record(tmp_path / f"{method}.json", None, signature, needs_weights=False)
        assert (record is not None) == shown


def test_a_contrastive_runs_schedule_ends_at_zero_with_a_last_partial_batch(nb, tmp_path):
    objective = nb.ContrastiveObjective.of("simclr", SETTINGS)
    data = tiny_data(nb, n_train=52, n_test=16, n_classes=3).hold_out(2, seed=0)   # 46 = 5 x 8 + 6
    cfg = tiny_config(nb, epochs=2, batch_size=8, eval_batch_size=8)
    batches = list(objective.view_batches(data.train_x, 8, data, torch.Generator()))
    assert [len(x) // 2 for x, _ in batches] == [8] * 5 + [6]            # the views of every image
    run = nb.train_run("simclr", nb.ContrastiveNet([32, 16]), data, objective, "all", cfg, CPU, tmp_path, log=quiet)
    assert run["history"][-1]["lr_end"] == pytest.approx(0.0, abs=1e-12)


def test_a_classifier_starts_from_the_contrastive_encoder_with_a_new_head(nb, tmp_path):
    run, model, data, _ = contrastive_run(nb, tmp_path, "simclr", epochs=1)
    path = nb.trunk_file(run, tmp_path)
    assert path.stat().st_size < 0.6 * (tmp_path / "simclr.best.pt").stat().st_size      # half precision
    trunk = torch.load(path, weights_only=True)
    assert trunk["task"] == "simclr" and trunk["model"]["conv1.weight"].dtype == torch.float16
    classifier = nb.make_classifier("simclr", 3, path)
    for key, value in classifier.state_dict().items():
        if not key.startswith("fc."):        # the trunk is the encoder's, rounded to half precision
            assert torch.equal(value, model.encoder.state_dict()[key].half().to(value.dtype)), key
    assert classifier.fc.weight.shape == (3, 512)
    assert classifier.trunk_source == {"init": "simclr", "trunk_sha1": nb.trunk_fingerprint(trunk["model"])}
    assert nb.trunk_file(run, tmp_path) == path                    # the matching file is kept
    other = {**run, "best": {**run["best"], "val_loss": run["best"]["val_loss"] + 0.01}}   # another run's record
    with pytest.raises(ValueError, match="is not the best checkpoint of the run"):
        nb.trunk_file(other, tmp_path)                            # neither its trunk file nor its checkpoint
    with pytest.raises(ValueError, match="not a barlow run"):
        nb.make_classifier("barlow", 3, path)
    with pytest.raises(ValueError, match="not a imagenet run"):
        nb.make_classifier("imagenet", 3, path)
    with pytest.raises(ValueError, match="not a imagenet21k run"):
        nb.make_classifier("imagenet21k", 3, path)


def test_the_training_feature_bank_is_computed_again_after_the_weights_change(nb, monkeypatch):
    data = tiny_data(nb, n_train=12, n_test=4)
    encoder = nb.ContrastiveNet([8, 4]).encoder
    calls = []
    pooled = nb.pooled_features
    monkeypatch.setattr(nb, "pooled_features", lambda *a, **k: calls.append(1) or pooled(*a, **k))
    first = nb.training_features(encoder, data, 6, "fp32")
    assert torch.equal(nb.training_features(encoder, data, 6, "fp32"), first) and len(calls) == 1
    with torch.no_grad():
        encoder.conv1.weight.mul_(2)
    assert not torch.equal(nb.training_features(encoder, data, 6, "fp32"), first) and len(calls) == 2


def test_the_linear_probe_chooses_its_weight_decay_on_validation_and_scores_the_test_set(nb):
    g = torch.Generator().manual_seed(4)
    centres = torch.randn(3, 10, generator=g) * 3
    split = lambda n: (centres[torch.arange(n) % 3] + torch.randn(n, 10, generator=g), torch.arange(n) % 3)
    train, val, test = split(90), split(30), split(30)
    probe = nb.linear_probe(train, val, test, weight_decays=(0.0, 10.0), max_iter=50)
    by_wd = probe["by_weight_decay"]
    assert probe["val_acc"] == max(r["val_acc"] for r in by_wd.values())
    assert probe["test_acc"] == by_wd[str(probe["weight_decay"])]["test_acc"] > 0.9
    # A direct count: clusters far apart are each classified as their cluster, so with 6 of the 30
    # test labels made wrong on purpose, the probe scores exactly 24 of 30.
    far = lambda n: (centres[torch.arange(n) % 3] * 10 + torch.randn(n, 10, generator=g), torch.arange(n) % 3)
    (test_x, test_y), far_train, far_val = far(30), far(90), far(30)
    test_y = torch.where(torch.arange(30) < 6, (test_y + 1) % 3, test_y)
    assert nb.linear_probe(far_train, far_val, (test_x, test_y), weight_decays=(0.0,), max_iter=50)["test_acc"] == pytest.approx(24 / 30)
    # The weight decay is chosen on validation, never on the test set. A huge decay leaves only the
    # bias, which calls every image class 0 (the most frequent in training); the test labels here are
    # all 0, so the test split would choose that decay, and validation chooses no decay.
    labels = torch.tensor([0] * 60 + [1] * 15 + [2] * 15)
    unbalanced = (centres[labels] * 10 + torch.randn(90, 10, generator=g), labels)
    chosen = nb.linear_probe(unbalanced, far_val, (test_x, torch.zeros(30, dtype=torch.int64)),
                             weight_decays=(0.0, 1e4), max_iter=50)
    assert chosen["by_weight_decay"]["10000.0"]["test_acc"] == 1.0      # the trap is there
    assert chosen["weight_decay"] == 0.0 and chosen["val_acc"] == 1.0


def test_the_contrastive_settings_are_checked(nb):
    good = nb.resolve_preset("smoke", {"contrastive": {"knn_k": 7}})
    assert good["contrastive"]["knn_k"] == 7 and good["contrastive"]["simclr_head"] == [32, 16]
    for change, message in (({"knn_k": 0}, "knn_k"), ({"crop_area": [0.5, 0.2]}, "crop_area"),
                            ({"simclr_head": []}, "simclr_head"), ({"simclr_temperature": 0}, "temperature"),
                            ({"barlow_lambda": -1}, "barlow_lambda"), ({"blur": 0.5}, "unknown key 'blur'"),
                            ({"crop_area": [0.2, "1"]}, "crop_area")):
        with pytest.raises(ValueError, match=message):
            nb.resolve_preset("smoke", {"contrastive": change})
    with pytest.raises(ValueError, match="must be a dict"):
        nb.resolve_preset("smoke", {"contrastive": 3})
    real = nb.resolve_preset("real")
    assert real["simclr"]["eval_batch_size"] == real["simclr"]["batch_size"]    # held-out loss like the training loss
    assert real["barlow"]["eval_batch_size"] == real["barlow"]["batch_size"]

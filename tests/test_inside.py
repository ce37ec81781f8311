"""Section 13, inside the two networks: loading a finished run's network, per-example losses, feature
maps, pooled features, nearest neighbours and kNN accuracy, each against its definition."""
import json

import pytest
import torch
import torch.nn.functional as F

from conftest import tiny_config, tiny_data
from half_precision_checkpoint import halve

CPU = torch.device("cpu")


def quiet(*args):
    pass


def trained_model(nb, num_classes=3, stem=None):
    torch.manual_seed(0)
    model = nb.build_resnet18(num_classes, stem)
    with torch.no_grad():                      # BatchNorm statistics away from their initial values
        for _ in range(2):
            model(torch.randn(8, 3, 32, 32))
    return model.eval()


def test_stage_outputs_are_the_networks_own_and_have_the_stock_sizes(nb):
    model = trained_model(nb)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        maps = nb.stage_outputs(model, x)
    assert {k: tuple(v.shape[1:]) for k, v in maps.items()} == {
        "stem": (64, 8, 8), "layer1": (64, 8, 8), "layer2": (128, 4, 4), "layer3": (256, 2, 2), "layer4": (512, 1, 1)}
    with torch.no_grad():                        # pooling layer4's map and applying fc gives the logits
        assert torch.allclose(model.fc(maps["layer4"].mean((2, 3))), model(x), atol=1e-4)


def test_pooled_features_are_what_fc_sees(nb):
    model, data = trained_model(nb), tiny_data(nb, n_test=10)
    features = nb.pooled_features(model, data.test_x, data, 4, "fp32")
    assert features.shape == (10, 512)
    x = nb.normalize(data.test_x, data.mean, data.std)
    with torch.no_grad():
        assert torch.allclose(model.fc(features), model(x), atol=1e-4)
    assert not model.training and not model.fc._forward_hooks     # the hook is gone again


def test_pooled_features_are_what_fc_sees_in_the_fast_cpu_forward_too(nb):
    model, data, mode = trained_model(nb), tiny_data(nb, n_test=10), "cpu-bf16-fast"
    nb.memory_layout(model, mode)
    seen = []
    model.fc.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].float()))
    with torch.no_grad(), nb.evaluation_mode(model):
        nb.forward(model, nb.memory_layout(nb.normalize(data.test_x, data.mean, data.std), mode), mode)
    assert torch.equal(nb.pooled_features(model, data.test_x, data, 10, mode), seen[0])


def test_a_training_image_is_its_own_nearest_neighbour_at_distance_zero(nb):
    features = torch.randn(50, 16)
    sims, idx = nb.nearest_neighbours(features[[3, 17]], features, k=5)
    assert idx[:, 0].tolist() == [3, 17]
    assert torch.allclose(sims[:, 0], torch.ones(2)) and (sims[:, :-1] >= sims[:, 1:]).all()


def test_knn_accuracy_against_a_direct_vote(nb):
    g = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 8, generator=g) * 4
    train_y, test_y = torch.arange(60) % 3, torch.arange(30) % 3
    train = centres[train_y] + torch.randn(60, 8, generator=g)
    test = centres[test_y] + torch.randn(30, 8, generator=g)
    assert nb.knn_accuracy(train, train_y, test, test_y, k=5) == 1.0       # separable classes
    shuffled = train_y[torch.randperm(60, generator=g)]
    direct = 0
    for f, y in zip(test, test_y):                 # one test feature at a time, by the definition
        sims = F.cosine_similarity(f[None], train, dim=1)
        top = sims.topk(7).indices
        votes = torch.zeros(3).index_add_(0, shuffled[top], sims[top])
        direct += int(votes.argmax() == y)
    assert nb.knn_accuracy(train, shuffled, test, test_y, k=7, chunk=4) == direct / 30


@pytest.mark.parametrize("task", ["classes", "rotation"])
def test_example_losses_cover_every_test_example_and_average_to_the_test_loss(nb, task):
    data = tiny_data(nb, n_test=14)
    model = trained_model(nb, 4 if task == "rotation" else 3)
    ex = nb.example_losses(model, data, task, 5, "fp32")
    n = 14 * (4 if task == "rotation" else 1)
    assert all(len(v) == n for v in ex.values())
    assert ex["loss"].mean().item() == pytest.approx(nb.evaluate(model, data, task, 5, "fp32")["test_loss"], rel=1e-5)
    # every example names its test image: its loss is that image's (rotated by the target) alone
    for i in (0, 6, n - 1):
        image = data.test_x[ex["image"][i]]
        target = ex["target"][i].item()
        x = nb.normalize(image[None], data.mean, data.std)
        if task == "rotation":
            x = torch.rot90(x, target, dims=(2, 3))
        else:
            assert target == data.test_y[ex["image"][i]].item()
        with torch.no_grad():
            alone = F.cross_entropy(model(x), torch.tensor([target]))
        assert ex["loss"][i].item() == pytest.approx(alone.item(), rel=1e-4)


def test_a_finished_runs_network_is_loaded_only_from_its_own_checkpoint(nb, tmp_path):
    data, cfg = tiny_data(nb, n_train=32, n_test=8).hold_out(2), tiny_config(nb, epochs=1)
    where = dict(device=CPU, checkpoint_dir=tmp_path, results_dir=tmp_path / "results", log=quiet)
    model = nb.build_resnet18(3)
    run = nb.train_run("sup", model, data, "classes", "all", cfg, **where)
    best = torch.load(tmp_path / "sup.best.pt", weights_only=True)
    halve(tmp_path / "sup.best.pt")                  # stored in half precision, as committed
    assert torch.load(tmp_path / "sup.best.pt", weights_only=True)["model"]["fc.weight"].dtype == torch.float16
    loaded, record = nb.load_finished("sup", 3, tmp_path, tmp_path / "results")
    assert record["best"] == run["best"] and all(v.dtype != torch.float16 for v in loaded.state_dict().values())
    assert torch.allclose(loaded.fc.weight, best["model"]["fc.weight"], atol=1e-3)
    results = tmp_path / "results" / "sup.json"
    changed = json.loads(results.read_text())
    changed["best"]["val_loss"] += 0.01              # another run's results: other figures at its best epoch
    results.write_text(json.dumps(changed))
    with pytest.raises(ValueError, match="is not the best checkpoint of the run"):
        nb.load_finished("sup", 3, tmp_path, tmp_path / "results")


def test_class_activation_maps_average_to_the_logits_less_the_bias(nb):
    model = trained_model(nb, num_classes=4, stem=nb.stem_3x3)                   # layer4's map is 2x2
    x = torch.randn(3, 3, 32, 32)
    maps, logits = nb.class_activation_maps(model, x)
    assert maps.shape == (3, 4, 2, 2)
    with torch.no_grad():
        assert torch.allclose(logits, model(x), atol=1e-4)                  # the network's own logits
        assert torch.allclose(maps.mean((2, 3)) + model.fc.bias, logits, atol=1e-4)
        layer4 = nb.stage_outputs(model, x)["layer4"]                      # one position by hand
        assert torch.allclose(maps[1, 2, 0, 1], model.fc.weight[2] @ layer4[1, :, 0, 1], atol=1e-4)


def test_cam_examples_are_confident_right_answers_of_the_best_classes_then_the_worst_mistake(nb):
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    probabilities = torch.tensor([[0.9, 0.1, 0, 0], [0.6, 0.4, 0, 0],       # class 0: both right
                                  [0.2, 0.8, 0, 0], [0.7, 0.3, 0, 0],       # class 1: one right
                                  [0, 0, 0.7, 0.3], [0, 0, 0.95, 0.05],     # class 2: both right
                                  [0, 0.99, 0, 0.01], [0, 0, 0.4, 0.6]])    # class 3: one right
    chosen = nb.cam_examples(probabilities, labels, n_right=2)
    assert chosen[:2] in ([0, 5], [5, 0])            # classes 0 and 2, each its most confident right answer
    assert chosen[2] == 6                            # the mistake made with probability 0.99

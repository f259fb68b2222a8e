"""The generator's weight average: exact update rule, eval mode, checkpoints, sampling."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganarena.errors import GanArenaError
from ganarena.evaluation import restore_module
from ganarena.networks import MLPGenerator
from ganarena.networks.averaging import GeneratorAverage
from ganarena.training import instantiate, train

from .helpers import FAST


def generator() -> MLPGenerator:
    torch.manual_seed(0)
    return MLPGenerator(data_shape=(2,), latent_dim=2, hidden_dim=8, depth=1)


def test_the_decay_ramps_up_then_holds() -> None:
    average = GeneratorAverage(generator(), decay=0.999)
    decays = []
    for _ in range(3):
        decays.append(average.current_decay())
        average.updates += 1
    assert decays == pytest.approx([1 / 10, 2 / 11, 3 / 12])
    average.updates.fill_(100_000)
    assert average.current_decay() == 0.999


def test_an_update_moves_each_weight_by_one_minus_the_decay() -> None:
    net = generator()
    average = GeneratorAverage(net, decay=0.5)
    before = [p.clone() for p in average.network.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    average.update(net)  # first update: decay min(0.5, 1/10) = 0.1, so 90% of the way
    for old, new in zip(before, average.network.parameters(), strict=True):
        torch.testing.assert_close(new, old + 0.9)
    assert not any(p.requires_grad for p in average.parameters())


class BatchNormGenerator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))

    def forward(self, noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.body(noise)


def test_batch_norm_statistics_are_copied_and_the_average_samples_in_eval_mode() -> None:
    net = BatchNormGenerator()
    average = GeneratorAverage(net, decay=0.9)
    net(torch.randn(16, 2) * 3 + 5)  # a training-mode pass moves the running statistics
    average.update(net)
    statistics = average.network.body[1].running_mean
    torch.testing.assert_close(statistics, net.body[1].running_mean)
    nn.Sequential(average).train()  # what Lightning does to every submodule
    noise = torch.randn(16, 2)
    in_train_mode = average(noise)
    torch.testing.assert_close(average.network.body[1].running_mean, statistics)  # unmoved
    assert average.network.training  # the trainer's mode is given back
    torch.testing.assert_close(in_train_mode, average.eval()(noise))  # the same eval output


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_a_decay_outside_zero_one_names_the_fix(decay) -> None:
    with pytest.raises(GanArenaError, match=r"model.ema_decay=.*use a value in \[0, 1\)"):
        GeneratorAverage(generator(), decay)


def test_a_run_samples_from_the_average_and_resumes_it(compose_config, tmp_path, recwarn) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    cfg = compose_config(*FAST, "data=ring", "model.ema_decay=0.99", output_dir=first)
    train(cfg)
    assert not [w for w in recwarn if "in eval mode at the start" in str(w.message)]
    checkpoint = torch.load(first / "checkpoints" / "last.ckpt", weights_only=False)
    assert int(checkpoint["state_dict"]["generator_average.updates"]) == 4  # one per G step
    module = restore_module(checkpoint, instantiate(cfg.data))
    noise = torch.randn(8, module.latent_dim)
    torch.testing.assert_close(module.generate(noise), module.generator_average(noise))
    assert not torch.allclose(module.generate(noise), module.generator(noise))
    last = first / "checkpoints" / "last.ckpt"
    overrides = ["model.ema_decay=0.99", "trainer.max_epochs=2", f"ckpt_path={last}"]
    train(compose_config(*FAST, "data=ring", *overrides, output_dir=second))
    resumed = torch.load(second / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert int(resumed["generator_average.updates"]) == 8

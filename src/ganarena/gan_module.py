"""One LightningModule for every GAN: the loss strategy decides what is minimised.

Manual optimization, because a GAN step is two games: n_critic discriminator steps, each on
its own real batch, then one generator step on fresh noise. Each step toggles its optimizer
so that only its own network gets gradients, and every step goes through
`self.optimizers()` so that precision, strategy and progress tracking see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor, nn
from torch.optim import Optimizer

from ganarena.losses import GANLoss

OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]


@dataclass
class StepRecord:
    """Detached tensors of the last training step, for callbacks (no extra forward pass)."""

    real_scores: Tensor
    fake_scores: Tensor
    generator_fake_scores: Tensor
    discriminator_loss: Tensor
    generator_loss: Tensor
    penalty: Tensor | None


class GANModule(pl.LightningModule):
    """Trains `generator` against `discriminator` under the objective `loss`."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: GANLoss,
        generator_optimizer: OptimizerFactory,
        discriminator_optimizer: OptimizerFactory,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        self.last_step: StepRecord | None = None
        #: The run's resolved config, stored in checkpoints so that evaluation can rebuild it.
        self.run_config: dict[str, Any] | None = None
        loss.check_compatible(discriminator)

    @property
    def latent_dim(self) -> int:
        return self.generator.latent_dim

    def sample_noise(self, num_samples: int) -> Tensor:
        return torch.randn(num_samples, self.latent_dim, device=self.device)

    @torch.no_grad()
    def generate(self, noise: Tensor) -> Tensor:
        """Samples for a given noise batch (plots and metrics); no gradients."""
        return self.generator(noise.to(self.device))

    def configure_optimizers(self) -> list[Optimizer]:
        return [
            self.generator_optimizer(self.generator.parameters()),
            self.discriminator_optimizer(self.discriminator.parameters()),
        ]

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        samples, _labels = batch
        generator_opt, discriminator_opt = self.optimizers()
        real_batches = samples.chunk(self.loss.n_critic)
        for real in real_batches:
            real_scores, fake_scores, loss_d, penalty = self._discriminator_step(
                discriminator_opt, real
            )
        last_real = real_batches[-1]
        generator_fake_scores, loss_g = self._generator_step(generator_opt, last_real)
        self.last_step = StepRecord(
            real_scores=real_scores,
            fake_scores=fake_scores,
            generator_fake_scores=generator_fake_scores,
            discriminator_loss=loss_d,
            generator_loss=loss_g,
            penalty=penalty,
        )
        self._log_step(loss_d, loss_g, penalty)

    def _discriminator_step(
        self, optimizer: LightningOptimizer, real: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        with self.toggled_optimizer(optimizer):
            with torch.no_grad():
                fake = self.generator(self.sample_noise(real.shape[0]))
            real_scores = self.discriminator(real)
            fake_scores = self.discriminator(fake)
            loss = self.loss.discriminator_loss(real_scores, fake_scores)
            penalty = self.loss.penalty(self.discriminator, real, fake)
            total = loss if penalty is None else loss + penalty
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(total)
            optimizer.step()
        self.loss.after_discriminator_step(self.discriminator)
        real_scores, fake_scores = real_scores.detach(), fake_scores.detach()
        self.loss.update_state(real_scores, fake_scores)
        detached_penalty = None if penalty is None else penalty.detach()
        return real_scores, fake_scores, loss.detach(), detached_penalty

    def _generator_step(self, optimizer: LightningOptimizer, real: Tensor) -> tuple[Tensor, Tensor]:
        with self.toggled_optimizer(optimizer):
            fake_scores = self.discriminator(self.generator(self.sample_noise(real.shape[0])))
            real_scores = None
            if self.loss.generator_needs_real_scores:
                with torch.no_grad():
                    real_scores = self.discriminator(real)
            loss = self.loss.generator_loss(fake_scores, real_scores)
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(loss)
            optimizer.step()
        return fake_scores.detach(), loss.detach()

    def _log_step(self, loss_d: Tensor, loss_g: Tensor, penalty: Tensor | None) -> None:
        """Log on the steps the loggers write (every `log_every_n_steps`), not every step.

        `self.log` costs about a millisecond per call in bookkeeping, more than a whole
        small GAN step on a CPU; values logged between two writes would be dropped anyway.
        """
        if not self.trainer._logger_connector.should_update_logs:
            return
        values = {"train/loss_d": loss_d, "train/loss_g": loss_g}
        if penalty is not None:
            values["train/penalty_d"] = penalty
        values.update({f"train/{key}": value for key, value in self.loss.log_values().items()})
        self.log_dict(values, prog_bar=True)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.run_config is not None:
            checkpoint["run_config"] = self.run_config

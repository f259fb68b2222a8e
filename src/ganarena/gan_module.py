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

from ganarena.conditioning import Conditioning, check_label_range
from ganarena.losses import GANLoss
from ganarena.networks.averaging import GeneratorAverage, eval_mode

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
        conditioning: Conditioning | None = None,
        ema_decay: float | None = None,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.conditioning = conditioning or Conditioning("none")
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        #: The weight average that samples and metrics use, when `ema_decay` is set.
        self.generator_average = (
            None if ema_decay is None else GeneratorAverage(generator, ema_decay)
        )
        self.last_step: StepRecord | None = None
        #: The run's resolved config, stored in checkpoints so that evaluation can rebuild it.
        self.run_config: dict[str, Any] | None = None
        loss.check_compatible(discriminator)

    @property
    def latent_dim(self) -> int:
        return self.generator.latent_dim

    @property
    def num_classes(self) -> int | None:
        """Classes the generator is conditioned on; None when unconditional."""
        return self.conditioning.num_classes

    def sample_noise(self, num_samples: int) -> Tensor:
        return torch.randn(num_samples, self.latent_dim, device=self.device)

    def sample_labels(self, num_samples: int) -> Tensor | None:
        """Uniform class labels when conditional, else None."""
        return self.conditioning.random_labels(num_samples, self.device)

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples, metrics and evaluation use: the average when kept."""
        return self.generator if self.generator_average is None else self.generator_average

    @torch.no_grad()
    def generate(self, noise: Tensor, labels: Tensor | None = None) -> Tensor:
        """Samples for a noise batch (and labels, when conditional) from `sampler` in eval
        mode (batch norm from its running statistics); the training mode is restored."""
        if labels is not None:
            labels = labels.to(self.device)
        with eval_mode(self.sampler):
            return self.sampler(noise.to(self.device), labels)

    def setup(self, stage: str) -> None:
        """Check the data's labels once, before training, when the networks use them."""
        datamodule = getattr(self.trainer, "datamodule", None) if self._trainer else None
        dataset = getattr(datamodule, "train_dataset", None)
        labels = getattr(dataset, "labels", None)
        if self.conditioning.uses_labels and isinstance(labels, Tensor):
            check_label_range(labels, self.conditioning.num_classes)

    def configure_optimizers(self) -> list[Optimizer]:
        return [
            self.generator_optimizer(self.generator.parameters()),
            self.discriminator_optimizer(self.discriminator.parameters()),
        ]

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        samples, labels = batch
        generator_opt, discriminator_opt = self.optimizers()
        real_batches = samples.chunk(self.loss.n_critic)
        label_batches = labels.chunk(self.loss.n_critic)
        for real, real_labels in zip(real_batches, label_batches, strict=True):
            real_scores, fake_scores, loss_d, penalty = self._discriminator_step(
                discriminator_opt, real, self.conditioning.real_labels(real_labels)
            )
        last_labels = self.conditioning.real_labels(label_batches[-1])
        generator_fake_scores, loss_g = self._generator_step(
            generator_opt, real_batches[-1], last_labels
        )
        self.last_step = StepRecord(
            real_scores=real_scores,
            fake_scores=fake_scores,
            generator_fake_scores=generator_fake_scores,
            discriminator_loss=loss_d,
            generator_loss=loss_g,
            penalty=penalty,
        )
        self._log_step(loss_d, loss_g, penalty)

    def _discriminate(self, x: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """D's scores, and its class logits when it has an auxiliary classifier (AC-GAN)."""
        if self.conditioning.auxiliary_classifier:
            return self.discriminator.score_and_classify(x, labels)
        return self.discriminator(x, labels), None

    def _critic(self, labels: Tensor | None) -> Callable[[Tensor], Tensor]:
        """D as a function of its input alone, for penalties that differentiate through it."""
        if labels is None:
            return self.discriminator
        return lambda x: self.discriminator(x, labels)

    def _discriminator_step(
        self, optimizer: LightningOptimizer, real: Tensor, labels: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        with self.toggled_optimizer(optimizer):
            with torch.no_grad():
                # Fakes take the real batch's labels, so penalties on mixtures of the two
                # (gradient penalty interpolates) see one consistent label per sample.
                fake = self.generator(self.sample_noise(real.shape[0]), labels)
            real_scores, real_logits = self._discriminate(real, labels)
            fake_scores, fake_logits = self._discriminate(fake, labels)
            loss = self.loss.discriminator_loss(real_scores, fake_scores)
            penalty = self.loss.penalty(self._critic(labels), real, fake)
            total = loss if penalty is None else loss + penalty
            if real_logits is not None:
                total = total + self.conditioning.classification_loss(real_logits, labels)
                total = total + self.conditioning.classification_loss(fake_logits, labels)
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(total)
            optimizer.step()
        self.loss.after_discriminator_step(self.discriminator)
        real_scores, fake_scores = real_scores.detach(), fake_scores.detach()
        self.loss.update_state(real_scores, fake_scores)
        detached_penalty = None if penalty is None else penalty.detach()
        return real_scores, fake_scores, loss.detach(), detached_penalty

    def _generator_step(
        self, optimizer: LightningOptimizer, real: Tensor, real_labels: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        with self.toggled_optimizer(optimizer):
            count = real.shape[0]
            fake_labels = self.sample_labels(count)
            fake = self.generator(self.sample_noise(count), fake_labels)
            fake_scores, fake_logits = self._discriminate(fake, fake_labels)
            real_scores = None
            if self.loss.generator_needs_real_scores:
                with torch.no_grad():
                    real_scores = self.discriminator(real, real_labels)
            loss = self.loss.generator_loss(fake_scores, real_scores)
            total = loss
            if fake_logits is not None:
                total = loss + self.conditioning.classification_loss(fake_logits, fake_labels)
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(total)
            optimizer.step()
        if self.generator_average is not None:
            self.generator_average.update(self.generator)
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

"""One LightningModule for every GAN: the loss strategy decides what is minimised.

Manual optimization, because a GAN step is two games: n_critic discriminator steps, each on
its own real batch, then one generator step on fresh noise. Each step freezes the other
network, so that only its own gets gradients, and every update goes through
`self.optimizers()` and `self.manual_backward`, so that precision, strategy, progress
tracking and every callback's hooks see it.

Vocabulary, used alike in code, configs, logs and docs:
- a *training step* is one generator update with the n_critic discriminator updates before
  it; `training_steps` counts them, callbacks schedule on them (`every_n_steps`) and every
  logger row is keyed by them;
- an *optimizer step* is one update of either network; Lightning's `trainer.global_step`
  and `trainer.max_steps` count those, n_critic + 1 per training step;
- a *logging step* is a training step whose values the loggers get as a row: every
  `trainer.log_every_n_steps` training steps, and the fit's last.
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

from ganarena.augment import Augment
from ganarena.conditioning import Conditioning, check_label_range
from ganarena.data.base import serve_training_steps
from ganarena.errors import GanArenaError
from ganarena.logger_rows import LoggerRows
from ganarena.loggers import forget_rows_after
from ganarena.losses import GANLoss, Latents
from ganarena.networks.averaging import GeneratorAverage
from ganarena.networks.compilation import compiled
from ganarena.networks.modes import eval_mode, frozen
from ganarena.options import require_int
from ganarena.run_length import ends_fit, planned_training_steps
from ganarena.schedules import Constant, LearningRateSchedule
from ganarena.seeding import seed_draws, step_seed

OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]


def critic_of(
    discriminator: nn.Module, augment: Augment | None, labels: Tensor | None
) -> Callable[[Tensor], Tensor]:
    """D as a function of its input alone, for penalties that differentiate through it
    (through the augmentation too, so their gradients are with respect to the images). The
    steps pass the eager D: torch.compile does not support double backward."""
    if augment is None:
        return lambda x: discriminator(x, labels)
    return lambda x: discriminator(augment(x), labels)


@dataclass
class TrainingStepRecord:
    """Detached tensors of the last training step, for callbacks (no extra forward pass):
    its last D step's, then its G step's."""

    real_scores: Tensor
    fake_scores: Tensor
    discriminator_loss: Tensor
    penalty: Tensor | None
    generator_fake_scores: Tensor
    generator_loss: Tensor
    generator_penalty: Tensor | None


class GANModule(pl.LightningModule):
    """Trains `generator` against `discriminator` under the objective `loss`.

    `configs/module/gan.yaml` mirrors this constructor; the run fills the networks' data
    shape and the conditioning's class count from the data module.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: GANLoss,
        generator_optimizer: OptimizerFactory,
        discriminator_optimizer: OptimizerFactory,
        conditioning: Conditioning | None = None,
        ema_decay: float | None = None,
        seed: int | None = 0,
        augment: Augment | None = None,
        compile_networks: bool | str = False,
        channels_last: bool = False,
        data_on_device: bool = False,
        lr_schedule: LearningRateSchedule | None = None,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.conditioning = conditioning or Conditioning("none")
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        #: Applied to every input of D (reals and fakes, D and G steps); None: D sees them as is.
        self.augment = augment
        #: Each training step's draws come from (seed, rank, step): `ganarena.seeding`.
        self.seed = (
            int(torch.initial_seed() % 2**31) if seed is None else require_int("seed", seed, 42)
        )
        #: The weight average that samples and metrics use, when `ema_decay` is set.
        self.generator_average = (
            None if ema_decay is None else GeneratorAverage(generator, ema_decay)
        )
        #: GPU fast paths: G and D compiled for the adversarial passes (`compiled`), NHWC
        #: memory, in-memory data kept on the device.
        self.compile_networks = compile_networks
        self.channels_last = channels_last
        self.data_on_device = data_on_device
        #: The factor on the configured learning rates at each training step (None: none).
        self.lr_schedule = None if isinstance(lr_schedule, Constant) else lr_schedule
        self.learning_rate_factor = 1.0
        self.configured_lrs: list[list[float]] = []
        self.planned_steps: int | None = None
        #: The training step under way (or just done), from 1; whether it is a logging step,
        #: whether it ends the fit, and the real images it shows D on all ranks (for `kimg`).
        self.current_training_step = 0
        self.logs_this_step = False
        self.is_last_step = False
        self.real_images_per_step = 0
        self.last_training_step: TrainingStepRecord | None = None
        #: What is logged during a training step, written as one row on logging steps.
        self.logger_rows = LoggerRows()
        #: G and D for the adversarial passes (compiled ones with `compile_networks`), made
        #: when training starts; a tuple, so that nn.Module does not register them twice.
        self.adversarial: tuple[Callable[..., Tensor], Callable[..., Tensor]] | None = None
        loss.check_compatible(discriminator)

    # -- what callbacks and evaluation use ----------------------------------------------------
    @property
    def latent_dim(self) -> int:
        return self.generator.latent_dim

    @property
    def num_classes(self) -> int | None:
        """Classes the generator is conditioned on; None when unconditional."""
        return self.conditioning.num_classes

    @property
    def training_steps(self) -> int:
        """Training steps done (generator updates); restored on resume with the global step."""
        return self.trainer.global_step // (self.loss.n_critic + 1)

    @property
    def kimg(self) -> float:
        """Thousands of real images shown to D so far: the data axis on which runs with other
        n_critic or batch sizes compare."""
        return self.training_steps * self.real_images_per_step / 1000

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator that samples, metrics and evaluation use: the average when kept."""
        return self.generator if self.generator_average is None else self.generator_average

    @torch.no_grad()
    def generate(self, noise: Tensor, labels: Tensor | None = None) -> Tensor:
        """Samples from `sampling_generator` in eval mode (batch norm from its running
        statistics); the training mode is restored."""
        if labels is not None:
            labels = labels.to(self.device)
        with eval_mode(self.sampling_generator):
            return self.sampling_generator(noise.to(self.device), labels)

    def log(self, name: str, value: Any, *args: Any, logger: bool | None = None, **kwargs) -> None:
        """Lightning's `log`, for monitors and the progress bar; the value also joins this
        training step's logger row, written on the next logging step with the training
        step as its x-axis (Lightning's own rows count batches and optimizer steps)."""
        super().log(name, value, *args, logger=False, **kwargs)
        if logger is not False:
            self.logger_rows.add({name: value})

    # -- Lightning hooks ----------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Tell the data how many real batches a step takes and where to serve them from;
        check its labels, once. Channels-last networks before the optimizers are built."""
        if self.channels_last:
            for network in (self.generator, self.discriminator, self.generator_average):
                if network is not None:
                    network.to(memory_format=torch.channels_last)
        datamodule = getattr(self.trainer, "datamodule", None)
        device = self.trainer.strategy.root_device if self.data_on_device else None
        serve_training_steps(datamodule, self.loss.n_critic, device)
        labels = getattr(getattr(datamodule, "train_dataset", None), "labels", None)
        if self.conditioning.uses_labels and isinstance(labels, Tensor):
            check_label_range(labels, self.conditioning.num_classes)

    def on_train_start(self) -> None:
        """A resumed run's logger rows continue from the step it resumes at; the run's length
        is known now (the data is set up), for the learning-rate schedule."""
        forget_rows_after(self.trainer.loggers, self.training_steps)
        setting = self.compile_networks
        self.adversarial = (
            compiled(self.generator, setting),
            compiled(self.discriminator, setting),
        )
        self.planned_steps = planned_training_steps(self.trainer, self.loss.n_critic)
        if self.lr_schedule is not None and self.planned_steps is None:
            raise GanArenaError(
                "a learning-rate schedule needs the run's length: set train_steps (or "
                "trainer.max_epochs), or lr_schedule=constant"
            )

    def configure_optimizers(self) -> list[Optimizer]:
        optimizers = [
            self.generator_optimizer(self.generator.parameters()),
            self.discriminator_optimizer(self.discriminator.parameters()),
        ]
        # The configured learning rates, before a resume restores the optimizers' state.
        self.configured_lrs = [[group["lr"] for group in o.param_groups] for o in optimizers]
        return optimizers

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        samples, labels = batch
        if self.channels_last and samples.dim() == 4:
            samples = samples.contiguous(memory_format=torch.channels_last)
        trainer, n_critic = self.trainer, self.loss.n_critic
        step = self.current_training_step = self.training_steps + 1
        seed_draws(step_seed(self.seed, self.global_rank, step), self.device)
        self.is_last_step = ends_fit(trainer, n_critic, step, batch_idx)
        every = trainer.log_every_n_steps
        self.logs_this_step = (every > 0 and step % every == 0) or self.is_last_step
        self.real_images_per_step = len(samples) * trainer.world_size
        generator_optimizer, discriminator_optimizer = self.optimizers()
        if self.lr_schedule is not None:
            self.set_learning_rates(step - 1, (generator_optimizer, discriminator_optimizer))
        reals = samples.chunk(n_critic)  # one real batch per D step
        real_labels = labels.chunk(n_critic) if self.conditioning.uses_labels else [None] * n_critic
        for real, real_label in zip(reals, real_labels, strict=True):
            d_record = self.discriminator_step(discriminator_optimizer, real, real_label)
        g_record = self.generator_step(generator_optimizer, real, real_label)
        self.last_training_step = TrainingStepRecord(*d_record, *g_record)
        if self.logs_this_step:
            self.log_losses(self.last_training_step)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        """On logging steps (and those a measurement asks for), write the step's row, after
        every callback has added its values (they run first)."""
        if self.logs_this_step or self.logger_rows.due:
            self.write_row()

    def on_train_end(self) -> None:
        """Write what the callbacks measured at the end of fit; compiled networks go (they
        are not pickled with the module)."""
        self.write_row()
        self.adversarial = None

    def write_row(self) -> None:
        if self.logger_rows.pending:
            self.logger_rows.add({"kimg": self.kimg})
            step, rank_zero = self.training_steps, self.trainer.is_global_zero
            self.logger_rows.write(self.trainer.loggers, step, rank_zero)

    def set_learning_rates(self, done: int, optimizers: Iterable[Optimizer]) -> None:
        """Set each optimizer's learning rates to the configured ones times the schedule's
        factor for the step after `done` training steps: no scheduler state to resume."""
        self.learning_rate_factor = self.lr_schedule.factor(done, self.planned_steps)
        for optimizer, configured in zip(optimizers, self.configured_lrs, strict=True):
            for group, lr in zip(optimizer.param_groups, configured, strict=True):
                group["lr"] = lr * self.learning_rate_factor

    # -- the two games --------------------------------------------------------------------------
    def score(self, x: Tensor, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """D's scores of `x` (augmented, when D's inputs are) and, for AC-GAN, its class
        logits (through the eager D, which has the class head)."""
        x = x if self.augment is None else self.augment(x)
        if self.conditioning.auxiliary_classifier:
            return self.discriminator.score_and_classify(x, labels)
        return self.adversarial[1](x, labels), None

    def discriminator_step(
        self, optimizer: LightningOptimizer, real: Tensor, labels: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """One D update on `real` and fresh fakes (made without gradients: G is not updated).
        Returns D's scores of both, its loss and its penalty, detached."""
        loss_fn, generator = self.loss, self.generator
        noise = torch.randn(real.shape[0], self.latent_dim, device=real.device)
        with torch.no_grad():  # fakes take the reals' labels: one label per penalty mixture
            fake = self.adversarial[0](noise, labels)
        real_scores, real_logits = self.score(real, labels)
        fake_scores, fake_logits = self.score(fake, labels)
        loss = loss_fn.discriminator_loss(real_scores, fake_scores)

        def generate(z: Tensor) -> Tensor:  # zCR's perturbed fakes: D's terms leave G alone
            with frozen(generator):
                return generator(z, labels)

        critic = critic_of(self.discriminator, self.augment, labels)
        latents = Latents(noise, generate)
        penalty = loss_fn.penalty(critic, real, fake, (real_scores, fake_scores), latents)
        total = loss if penalty is None else loss + penalty
        if real_logits is not None:  # AC-GAN's class head
            classification_loss = self.conditioning.classification_loss
            total = total + classification_loss(real_logits, labels)
            total = total + classification_loss(fake_logits, labels)
        self.update(optimizer, total)
        loss_fn.after_discriminator_step(self.discriminator)
        real_scores, fake_scores = real_scores.detach(), fake_scores.detach()
        loss_fn.update_state(real_scores, fake_scores)
        if self.augment is not None:
            self.augment.observe(real_scores)
        penalty = None if penalty is None else penalty.detach()
        return real_scores, fake_scores, loss.detach(), penalty

    def generator_step(
        self, optimizer: LightningOptimizer, real: Tensor, real_labels: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """One G update on fresh noise, with D frozen. Returns D's scores of the fakes, G's
        loss and G's penalty term (zCR's), detached."""
        loss_fn, count = self.loss, real.shape[0]
        with frozen(self.discriminator):
            labels = self.conditioning.random_labels(count, real.device)
            noise = torch.randn(count, self.latent_dim, device=real.device)
            fake = self.adversarial[0](noise, labels)
            fake_scores, fake_logits = self.score(fake, labels)
            real_scores = None
            if loss_fn.generator_needs_real_scores:
                with torch.no_grad():
                    real_scores = self.score(real, real_labels)[0]
            total = loss = loss_fn.generator_loss(fake_scores, real_scores)
            if fake_logits is not None:
                total = total + self.conditioning.classification_loss(fake_logits, labels)
            latents = Latents(noise, lambda z: self.generator(z, labels))
            penalty = loss_fn.generator_penalty(fake, latents)
            if penalty is not None:
                total = total + penalty
                penalty = penalty.detach()
            self.update(optimizer, total)
        if self.generator_average is not None:
            self.generator_average.update(self.generator)
        return fake_scores.detach(), loss.detach(), penalty

    def update(self, optimizer: LightningOptimizer, total: Tensor) -> None:
        """One optimizer step of `total`, through Lightning (precision, strategy, hooks)."""
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(total)
        optimizer.step()

    def log_losses(self, record: TrainingStepRecord) -> None:
        """The step's losses and the loss's and augmentation's figures, on logging steps."""
        values = {"train/loss_d": record.discriminator_loss, "train/loss_g": record.generator_loss}
        if record.penalty is not None:
            values["train/penalty_d"] = record.penalty
        if record.generator_penalty is not None:
            values["train/penalty_g"] = record.generator_penalty
        values.update({f"train/{key}": value for key, value in self.loss.log_values().items()})
        if self.augment is not None:
            values.update({f"train/{k}": v for k, v in self.augment.log_values().items()})
        if self.lr_schedule is not None:
            values["train/lr_factor"] = self.learning_rate_factor
        self.log_dict(values)

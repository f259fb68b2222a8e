"""One LightningModule for every GAN: the loss strategy decides what is minimised.

Manual optimization, because a GAN step is two games: n_critic discriminator steps, each on
its own real batch, then one generator step on fresh noise. Each step freezes the other
network, so that only its own gets gradients, and every step goes through
`self.optimizers()` so that precision, strategy and progress tracking see it.

Vocabulary, used alike in code, configs, logs and docs:
- a *training step* is one generator update with the n_critic discriminator updates before
  it; `training_steps` counts them, callbacks schedule on them (`every_n_steps`) and every
  logger row is keyed by them;
- an *optimizer step* is one update of either network; Lightning's `trainer.global_step`
  and `trainer.max_steps` count those, n_critic + 1 per training step;
- a *logging step* is a training step whose values the loggers get as a row: every
  `trainer.log_every_n_steps` training steps, and the last one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.loops.progress import _Progress
from lightning.pytorch.utilities import rank_zero_info
from torch import Tensor, nn
from torch.optim import Optimizer

from ganarena.augment import Augment
from ganarena.compat import (
    LeanBatchLoop,
    optimizer_step_progress,
    overrides,
    publish_callback_metrics,
    why_lightning_batches,
)
from ganarena.conditioning import Conditioning, check_label_range
from ganarena.data.base import GANDataModule
from ganarena.direct_updates import DirectUpdate, why_lightning_updates
from ganarena.errors import GanArenaError
from ganarena.logger_rows import LoggerRows, Value
from ganarena.loggers import forget_rows_after
from ganarena.losses import GANLoss, Latents, Penalty
from ganarena.networks.averaging import GeneratorAverage, eval_mode
from ganarena.options import require_int
from ganarena.schedules import Constant, LearningRateSchedule

OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]


@contextmanager
def frozen(network: nn.Module, parameters: list[nn.Parameter] | None = None) -> Iterator[None]:
    """`network` gets no gradients inside: the other network's step. What Lightning's
    `toggled_optimizer` does, without its bookkeeping over every optimizer's parameters.
    `parameters`: the network's, listed once beforehand (walking its modules costs more than
    the toggling)."""
    parameters = [p for p in parameters or network.parameters() if p.requires_grad]
    for parameter in parameters:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)


def critic_of(
    discriminator: nn.Module, augment: Augment | None, labels: Tensor | None
) -> Callable[[Tensor], Tensor]:
    """D as a function of its input alone, for penalties that differentiate through it:
    through the augmentation too, so their gradients are with respect to the images. The
    steps pass the eager D: torch.compile does not support the double backward of gradient
    penalties."""
    if augment is None:
        return lambda x: discriminator(x, labels)
    return lambda x: discriminator(augment(x), labels)


def step_seed(seed: int, rank: int, step: int) -> int:
    """The seed of training step `step` on rank `rank`: distinct for every (seed, rank, step)."""
    return (seed * 1_000_003 + rank) * 1_000_000_007 + step


def seed_draws(seed: int, device: torch.device) -> None:
    """Seed the random draws made on `device` (and on the CPU).

    On a CPU run only the CPU generator: `torch.manual_seed` would also queue a CUDA seed on
    a CUDA build, and while CUDA is not initialised that queueing formats the call stack, a
    millisecond per call under Lightning's deep stack (a tenth of a small GAN step)."""
    if device.type == "cpu":
        torch.default_generator.manual_seed(seed)
    else:
        torch.manual_seed(seed)


def planned_training_steps(trainer: pl.Trainer, n_critic: int) -> int:
    """The run's length in training steps, from the trainer's limits (`train_steps` sets
    `max_steps`, n_critic + 1 optimizer steps per training step; else `max_epochs`)."""
    limits = []
    if trainer.max_steps is not None and trainer.max_steps > 0:
        limits.append(trainer.max_steps // (n_critic + 1))
    if trainer.max_epochs is not None and trainer.max_epochs >= 0:
        batches = trainer.num_training_batches
        if batches != float("inf"):
            limits.append(int(max(trainer.max_epochs, 1) * batches))
    if not limits:
        raise GanArenaError(
            "a learning-rate schedule needs the run's length: set train_steps (or "
            "trainer.max_epochs), or lr_schedule=constant"
        )
    return min(limits)


@dataclass
class TrainingStepRecord:
    """Detached tensors of the last training step, for callbacks (no extra forward pass)."""

    real_scores: Tensor
    fake_scores: Tensor
    generator_fake_scores: Tensor
    discriminator_loss: Tensor
    generator_loss: Tensor
    penalty: Tensor | None


@dataclass(slots=True)
class StepState:
    """The training step under way, kept in a plain object: an attribute of a LightningModule
    set on every step goes through `nn.Module.__setattr__`'s checks each time."""

    number: int = 0
    logs: bool = False
    real_images: int = 0
    record: TrainingStepRecord | None = None
    #: Whether the fit stops after this step, and the batch it was asked for (`stops_after`).
    stops: bool = False
    batch_idx: int = -1
    #: The training step that reaches `trainer.max_steps`, and the index of this epoch's last
    #: batch when it is the last epoch (inf: none), worked out at each epoch's first step
    #: (None: not yet in this fit).
    last_step: float | None = None
    last_batch: float = math.inf


@dataclass(slots=True)
class StepParts:
    """What the D and G steps call, bound once per fit (`GANModule.step_parts`). Each
    `self.generator` of a LightningModule is a lookup through `nn.Module.__getattr__`; a few
    hundred of those and of properties per step were 3% of a small GAN step on a CPU."""

    #: G and D for the adversarial passes: compiled ones when `compile_networks` is set.
    generator: Callable[..., Tensor]
    discriminator: Callable[..., Tensor]
    #: The eager D, for penalties that differentiate through it, and G for zCR's latents.
    eager_generator: nn.Module
    eager_discriminator: nn.Module
    #: Their parameters, listed once (walking the modules costs more than the toggling).
    generator_parameters: list[nn.Parameter]
    discriminator_parameters: list[nn.Parameter]
    loss: GANLoss
    conditioning: Conditioning
    augment: Augment | None
    latent_dim: int
    #: D's scores (through the augmentation, when there is one) as a function of (x, labels).
    score: Callable[[Tensor, Tensor | None], Tensor]
    #: The loss has penalties on D (on G: zCR's); AC-GAN's D has a class head; G and D take
    #: labels. Read once, so that steps without them call nothing for them.
    penalized: bool
    penalizes_generator: bool
    classifies: bool
    conditional: bool
    #: The trainer's optimizers (Lightning's wrappers), and the facts of this process.
    generator_optimizer: LightningOptimizer
    discriminator_optimizer: LightningOptimizer
    world_size: int
    rank: int
    device: torch.device
    log_every_n_steps: int


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
        #: Every random draw of training step t on rank r comes from the seed (seed, r, t), so
        #: a resumed run draws exactly what the uninterrupted one would have, with no random
        #: state to save, and every rank draws its own noise.
        self.seed = (
            int(torch.initial_seed() % 2**31) if seed is None else require_int("seed", seed, 42)
        )
        #: The weight average that samples and metrics use, when `ema_decay` is set.
        self.generator_average = (
            None if ema_decay is None else GeneratorAverage(generator, ema_decay)
        )
        #: The training step under way (or just done): read through the properties below.
        self.step_state = StepState()
        #: The last G step's penalty term (zCR's), detached; None when the loss has none.
        self.generator_penalty: Tensor | None = None
        self.logger_rows = LoggerRows()
        #: The latest values for the progress bar, as Python numbers (`GANProgressBar`).
        self.progress_bar_values: dict[str, float] = {}
        #: torch.compile G and D for the adversarial passes: False, True (inductor) or the name
        #: of a torch.compile backend (`compile=` in the config). Penalties differentiate
        #: through the eager D (compiled double backward is unsupported); sampling uses the
        #: eager G.
        self.compile_networks = compile_networks
        self._step_parts: StepParts | None = None
        #: Convolution weights and image batches in channels-last (NHWC) memory, the layout
        #: cuDNN's and oneDNN's fastest convolutions use; the values are the same.
        self.channels_last = channels_last
        #: Keep in-memory training data on the training device, so that a step copies
        #: nothing from the host (a GPU fast path; the same batches in the same order).
        self.data_on_device = data_on_device
        #: The factor on the configured learning rates at each training step; None: the
        #: optimizers' learning rates are left alone.
        self.lr_schedule = None if isinstance(lr_schedule, Constant) else lr_schedule
        self._configured_lrs: list[list[float]] = []
        #: The run's length in training steps, once training starts (for the schedule).
        self.planned_steps = 0
        #: The schedule's factor in the training step under way.
        self.learning_rate_factor = 1.0
        #: Why every update goes through Lightning's hooks (`ganarena.direct_updates`); None:
        #: only those of logging steps do.
        self.lightning_updates_because: str | None = "training has not started"
        #: Why every batch goes through Lightning's own epoch loop (`ganarena.compat.
        #: LeanBatchLoop`); None: the lean one runs them.
        self.lightning_batches_because: str | None = "training has not started"
        self._lean_loop: LeanBatchLoop | None = None
        #: Backward and step without Lightning's hooks, when none listens (else None).
        self._direct_update: DirectUpdate | None = None
        #: Lightning's count of optimizer steps, and optimizer steps per training step, for
        #: the step number (what `training_steps` reads through the trainer's properties).
        self._optimizer_steps: _Progress | None = None
        self._optimizer_steps_of: pl.Trainer | None = None  # the trainer that count is of
        self._updates_per_step = 0
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
    def real_batches_per_step(self) -> int:
        """Real batches a training step consumes: one per discriminator step."""
        return self.loss.n_critic

    @property
    def current_training_step(self) -> int:
        """The number of the training step under way (or just done), from 1."""
        return self.step_state.number

    @property
    def logs_this_step(self) -> bool:
        """Whether that step is a logging step (see the module docstring)."""
        return self.step_state.logs

    @property
    def real_images_per_step(self) -> int:
        """Real images one training step shows D, on all ranks together (for `kimg`)."""
        return self.step_state.real_images

    @property
    def last_training_step(self) -> TrainingStepRecord | None:
        return self.step_state.record

    @property
    def training_steps(self) -> int:
        """Training steps done (generator updates); restored on resume with the global step.

        During fit, read off Lightning's optimizer-step count directly: callbacks ask on
        every step, and `trainer.global_step` is five properties deep."""
        progress = self._optimizer_steps
        if progress is not None and self._trainer is self._optimizer_steps_of:
            return progress.total.completed // self._updates_per_step
        return self.trainer.global_step // (self.loss.n_critic + 1)

    @property
    def kimg(self) -> float:
        """Thousands of real images shown to D so far: the data axis on which runs with other
        n_critic or batch sizes compare."""
        return self.training_steps * self.real_images_per_step / 1000

    def stops_after(self, step: int, batch_idx: int) -> bool:
        """Whether the fit loop stops once training step `step` (batch `batch_idx` of this
        epoch) is done: `trainer.max_steps` reached, or the last batch of the last epoch.
        Worked out once per step (callbacks ask too)."""
        state = self.step_state
        if step == state.number and batch_idx == state.batch_idx:
            return state.stops
        return self._stops_after(step, batch_idx)

    def _stops_after(self, step: int, batch_idx: int) -> bool:
        state = self.step_state
        if state.last_step is None or batch_idx <= state.batch_idx:
            self._set_stop_limits(state)  # a new fit or epoch: its limits, once
        return step >= state.last_step or batch_idx >= state.last_batch

    def _set_stop_limits(self, state: StepState) -> None:
        trainer = self.trainer
        max_steps, updates = trainer.max_steps, self.loss.n_critic + 1
        has_max = max_steps is not None and max_steps > 0
        state.last_step = -(-max_steps // updates) if has_max else math.inf  # ceiling
        max_epochs = trainer.max_epochs
        last_epoch = max_epochs is not None and 0 <= max_epochs <= trainer.current_epoch + 1
        state.last_batch = trainer.num_training_batches - 1 if last_epoch else math.inf

    def sample_noise(self, num_samples: int) -> Tensor:
        return torch.randn(num_samples, self.latent_dim, device=self.device)

    def sample_labels(self, num_samples: int) -> Tensor | None:
        """Uniform class labels when conditional, else None."""
        return self.conditioning.random_labels(num_samples, self.device)

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator that samples, metrics and evaluation use: the average when kept."""
        return self.generator if self.generator_average is None else self.generator_average

    @torch.no_grad()
    def generate(self, noise: Tensor, labels: Tensor | None = None) -> Tensor:
        """Samples for a noise batch (and labels, when conditional) from `sampling_generator`
        in eval mode (batch norm from its running statistics); the training mode is restored."""
        if labels is not None:
            labels = labels.to(self.device)
        with eval_mode(self.sampling_generator):
            return self.sampling_generator(noise.to(self.device), labels)

    def log_values(
        self,
        values: Mapping[str, Value],
        progress_bar: bool = False,
    ) -> None:
        """Add `values` to this training step's logger row (see `ganarena.logger_rows`).

        They also go to `trainer.callback_metrics` (what checkpoint monitors read), as their
        latest values. With `progress_bar` they go to `progress_bar_values`, as numbers read
        now, once: what Lightning's own progress-bar metrics would read again on every later
        step of the epoch (a device sync per step).
        """
        self.logger_rows.add(values)
        publish_callback_metrics(self.trainer, values)
        if progress_bar:
            self.progress_bar_values.update({name: float(value) for name, value in values.items()})

    # -- Lightning hooks ----------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Tell the data how many real batches a step takes, and where to serve them from;
        check its labels, once. Put the networks in channels-last memory when asked (before
        the optimizers are built)."""
        if self.channels_last:
            for network in (self.generator, self.discriminator, self.generator_average):
                if network is not None:
                    network.to(memory_format=torch.channels_last)
        datamodule = getattr(self.trainer, "datamodule", None)
        if isinstance(datamodule, GANDataModule):
            datamodule.batches_per_step = self.real_batches_per_step
            if self.data_on_device:
                datamodule.serve_from = self.trainer.strategy.root_device
        elif self.data_on_device:
            raise GanArenaError(
                "module.data_on_device=true needs a ganarena.data.GANDataModule, which can "
                "keep its data on the device: subclass it, or set module.data_on_device=false"
            )
        elif self.real_batches_per_step > 1:
            raise GanArenaError(
                f"loss.n_critic={self.loss.n_critic} needs a GANDataModule, which serves "
                f"{self.loss.n_critic} real batches per training step: subclass "
                "ganarena.data.GANDataModule, or set loss.n_critic=1"
            )
        labels = getattr(getattr(datamodule, "train_dataset", None), "labels", None)
        if self.conditioning.uses_labels and isinstance(labels, Tensor):
            check_label_range(labels, self.conditioning.num_classes)

    def on_train_start(self) -> None:
        """A resumed run's logger rows continue from the step it resumes at. The run's length
        is known now (the data is set up), for the learning-rate schedule; and the callbacks,
        for whether updates can skip Lightning's hooks and batches its epoch loop."""
        forget_rows_after(self.trainer.loggers, self.training_steps)
        self.step_state.last_step = None  # this fit's limits
        self._step_parts = None  # bound afresh: the networks may have been replaced
        self._optimizer_steps = optimizer_step_progress(self.trainer)
        self._optimizer_steps_of = self.trainer
        self._updates_per_step = self.loss.n_critic + 1
        self.lightning_updates_because = why_lightning_updates(self.trainer, self)
        self._direct_update = None
        if self.lightning_updates_because is None:
            self._direct_update = DirectUpdate(self.trainer, self)
        else:
            rank_zero_info(
                f"every update goes through Lightning's hooks: {self.lightning_updates_because}"
            )
        self.lightning_batches_because = why_lightning_batches(self.trainer, self)
        if self.lightning_batches_because is None:
            self._lean_loop = LeanBatchLoop(self.trainer, self)
            self._lean_loop.install()
        else:
            rank_zero_info(
                f"every batch goes through Lightning's loop: {self.lightning_batches_because}"
            )
        if self.lr_schedule is not None:
            self.planned_steps = planned_training_steps(self.trainer, self.loss.n_critic)

    def configure_optimizers(self) -> list[Optimizer]:
        optimizers = [
            self.generator_optimizer(self.generator.parameters()),
            self.discriminator_optimizer(self.discriminator.parameters()),
        ]
        # The configured learning rates, before a resume restores the optimizers' state.
        self._configured_lrs = [[group["lr"] for group in o.param_groups] for o in optimizers]
        return optimizers

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        samples, labels = batch
        if self.channels_last and samples.dim() == 4:
            samples = samples.contiguous(memory_format=torch.channels_last)
        parts, state = self.step_parts, self.step_state
        state.real_images = len(samples) * parts.world_size
        step = state.number = self.training_steps + 1
        seed_draws(step_seed(self.seed, parts.rank, step), parts.device)
        state.batch_idx, state.stops = batch_idx, self._stops_after(step, batch_idx)
        every = parts.log_every_n_steps
        state.logs = (every > 0 and step % every == 0) or state.stops
        if self.lr_schedule is not None:
            optimizers = (parts.generator_optimizer, parts.discriminator_optimizer)
            self.set_learning_rates(step - 1, optimizers)
        real_batches = self.split_real_batch(samples)
        label_batches = self.split_real_batch(labels) if parts.conditional else None
        for index, real in enumerate(real_batches):
            real_labels = None if label_batches is None else label_batches[index]
            real_scores, fake_scores, loss_d, penalty = self._discriminator_step(
                parts, real, real_labels
            )
        generator_fake_scores, loss_g = self._generator_step(parts, real, real_labels)
        state.record = TrainingStepRecord(
            real_scores=real_scores,
            fake_scores=fake_scores,
            generator_fake_scores=generator_fake_scores,
            discriminator_loss=loss_d,
            generator_loss=loss_g,
            penalty=penalty,
        )
        if state.logs:
            self._log_losses(loss_d, loss_g, penalty)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        """Write the step's row, after every callback has added its values (they run first)."""
        self._write_row()

    def on_train_end(self) -> None:
        """Write what the callbacks measured at the end of fit; give the trainer its own
        epoch loop back, and forget what was bound to it."""
        self._write_row()
        if self._lean_loop is not None:
            self._lean_loop.uninstall()
            self._lean_loop = None
        # What was bound to this fit's trainer: the module outlives it (and gets pickled).
        self._direct_update = self._optimizer_steps = self._optimizer_steps_of = None
        self._step_parts = None  # it holds the trainer's optimizers

    def _write_row(self) -> None:
        if not self.logger_rows.pending:  # most steps: nothing to write
            return
        self.logger_rows.add({"kimg": self.kimg})
        self.logger_rows.write(
            self.trainer.loggers, self.training_steps, self.trainer.is_global_zero
        )

    def set_learning_rates(self, done: int, optimizers: Iterable[Optimizer]) -> None:
        """Set each optimizer's learning rates to the configured ones times the schedule's
        factor for the step after `done` training steps: no scheduler state to resume."""
        self.learning_rate_factor = self.lr_schedule.factor(done, self.planned_steps)
        for optimizer, configured in zip(optimizers, self._configured_lrs, strict=True):
            for group, lr in zip(optimizer.param_groups, configured, strict=True):
                group["lr"] = lr * self.learning_rate_factor

    # -- the two games --------------------------------------------------------------------------
    def split_real_batch(self, samples: Tensor) -> tuple[Tensor, ...]:
        """The loader batch (its samples or its labels) as n_critic equal real batches, one
        per discriminator step."""
        count = self.loss.n_critic
        if count == 1:
            return (samples,)
        if len(samples) % count:
            raise GanArenaError(
                f"a batch of {len(samples)} real samples does not split into loss.n_critic="
                f"{count} discriminator batches: serve n_critic batches per step "
                "(ganarena.data.GANDataModule does)"
            )
        return samples.chunk(count)

    @property
    def step_parts(self) -> StepParts:
        """The networks and parts the steps call, bound on first use in each fit."""
        parts = self._step_parts
        if parts is None:
            parts = self._step_parts = self._bind_step_parts()
        return parts

    def _bind_step_parts(self) -> StepParts:
        generator, discriminator = self.generator, self.discriminator
        adversarial_discriminator = self._compiled(discriminator)
        augment, loss, trainer = self.augment, self.loss, self.trainer
        penalties = list(loss.penalties)
        generator_optimizer, discriminator_optimizer = self.optimizers()
        return StepParts(
            generator=self._compiled(generator),
            discriminator=adversarial_discriminator,
            eager_generator=generator,
            eager_discriminator=discriminator,
            generator_parameters=list(generator.parameters()),
            discriminator_parameters=list(discriminator.parameters()),
            loss=loss,
            conditioning=self.conditioning,
            augment=augment,
            latent_dim=generator.latent_dim,
            score=(
                adversarial_discriminator
                if augment is None
                else lambda x, labels: adversarial_discriminator(augment(x), labels)
            ),
            penalized=bool(penalties) or overrides(loss, GANLoss, "penalty"),
            penalizes_generator=overrides(loss, GANLoss, "generator_penalty")
            or any(overrides(p, Penalty, "penalize_generator") for p in penalties),
            classifies=self.conditioning.auxiliary_classifier,
            conditional=self.conditioning.uses_labels,
            generator_optimizer=generator_optimizer,
            discriminator_optimizer=discriminator_optimizer,
            world_size=trainer.world_size,
            rank=trainer.global_rank,
            device=self.device,
            log_every_n_steps=trainer.log_every_n_steps,
        )

    def _compiled(self, network: nn.Module) -> Callable[..., Tensor]:
        """`network` compiled when `compile_networks` is set (else itself): compiling happens
        on its first call.

        Freezing the other network (requires_grad) happens outside the compiled region; dynamo
        guards on it and keeps one graph per state (pytorch#139476 is a toggle inside one)."""
        if not self.compile_networks:
            return network
        backend = "inductor" if self.compile_networks is True else str(self.compile_networks)
        return torch.compile(network, backend=backend)

    @staticmethod
    def _latents(
        parts: StepParts, noise: Tensor, labels: Tensor | None, freeze: bool = False
    ) -> Latents:
        """`noise` and the eager G with `labels` bound, for zCR's perturbed latents. With
        `freeze` (D's step) G is frozen while it runs, so that D's terms give G no gradient."""
        generator, parameters = parts.eager_generator, parts.generator_parameters
        if not freeze:
            return Latents(noise, lambda z: generator(z, labels))

        def generate(z: Tensor) -> Tensor:
            with frozen(generator, parameters):
                return generator(z, labels)

        return Latents(noise, generate)

    @staticmethod
    def _score_and_classify(
        parts: StepParts, x: Tensor, labels: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """AC-GAN's D: scores and class logits of the augmented `x`, through the eager D."""
        x = x if parts.augment is None else parts.augment(x)
        return parts.eager_discriminator.score_and_classify(x, labels)

    def _discriminator_step(
        self, parts: StepParts, real: Tensor, labels: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """One D update on `real` and fresh fakes (made without gradients: G is not updated).
        Returns D's scores of both, its loss and its penalty, detached."""
        loss_fn = parts.loss
        noise = torch.randn(real.shape[0], parts.latent_dim, device=real.device)
        with torch.no_grad():
            # Fakes take the real batch's labels, so penalties on mixtures of the two
            # (gradient penalty interpolates) see one consistent label per sample.
            fake = parts.generator(noise, labels)
        if parts.classifies:
            real_scores, real_logits = self._score_and_classify(parts, real, labels)
            fake_scores, fake_logits = self._score_and_classify(parts, fake, labels)
        else:
            real_scores, fake_scores = parts.score(real, labels), parts.score(fake, labels)
        total = loss = loss_fn.discriminator_loss(real_scores, fake_scores)
        penalty = None
        if parts.penalized:
            critic = critic_of(parts.eager_discriminator, parts.augment, labels)
            scores = (real_scores, fake_scores)
            latents = self._latents(parts, noise, labels, freeze=True)
            penalty = loss_fn.penalty(critic, real, fake, scores, latents)
            total = loss if penalty is None else loss + penalty
            penalty = None if penalty is None else penalty.detach()
        if parts.classifies:
            classification_loss = parts.conditioning.classification_loss
            total = total + classification_loss(real_logits, labels)
            total = total + classification_loss(fake_logits, labels)
        self._update(parts.discriminator_optimizer, total)
        loss_fn.after_discriminator_step(parts.eager_discriminator)
        real_scores, fake_scores = real_scores.detach(), fake_scores.detach()
        loss_fn.update_state(real_scores, fake_scores)
        if parts.augment is not None:
            parts.augment.observe(real_scores)
        return real_scores, fake_scores, loss.detach(), penalty

    def _generator_step(
        self, parts: StepParts, real: Tensor, real_labels: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        """One G update on fresh noise, with D frozen. Returns D's scores of the fakes and
        G's loss, detached."""
        loss_fn = parts.loss
        with frozen(parts.eager_discriminator, parts.discriminator_parameters):
            count = real.shape[0]
            fake_labels = None
            if parts.conditional:
                fake_labels = parts.conditioning.random_labels(count, real.device)
            noise = torch.randn(count, parts.latent_dim, device=real.device)
            fake = parts.generator(noise, fake_labels)
            if parts.classifies:
                fake_scores, fake_logits = self._score_and_classify(parts, fake, fake_labels)
            else:
                fake_scores = parts.score(fake, fake_labels)
            real_scores = None
            if loss_fn.generator_needs_real_scores:
                with torch.no_grad():
                    real_scores = parts.score(real, real_labels)
            total = loss = loss_fn.generator_loss(fake_scores, real_scores)
            if parts.classifies:
                classification_loss = parts.conditioning.classification_loss
                total = loss + classification_loss(fake_logits, fake_labels)
            if parts.penalizes_generator:
                latents = self._latents(parts, noise, fake_labels)
                penalty = loss_fn.generator_penalty(fake, latents)
                if penalty is not None:
                    total = total + penalty
                    self.generator_penalty = penalty.detach()
            self._update(parts.generator_optimizer, total)
        if self.generator_average is not None:
            self.generator_average.update(parts.eager_generator)
        return fake_scores.detach(), loss.detach()

    def _update(self, optimizer: LightningOptimizer, total: Tensor) -> None:
        """Backward and step: directly where no hook listens on every step
        (`ganarena.direct_updates`), calling the hooks of those that listen on logging steps
        there; else through Lightning."""
        if self._direct_update is not None:
            self._direct_update(optimizer, total, self.step_state.logs)
        else:
            optimizer.zero_grad(set_to_none=True)
            self.manual_backward(total)
            optimizer.step()

    def _log_losses(self, loss_d: Tensor, loss_g: Tensor, penalty: Tensor | None) -> None:
        """Log on logging steps only: `self.log` costs about a millisecond per call in
        bookkeeping, more than a whole small GAN step on a CPU."""
        values = {"train/loss_d": loss_d, "train/loss_g": loss_g}
        if penalty is not None:
            values["train/penalty_d"] = penalty
        if self.generator_penalty is not None:
            values["train/penalty_g"] = self.generator_penalty
        values.update({f"train/{key}": value for key, value in self.loss.log_values().items()})
        if self.augment is not None:
            values.update({f"train/{k}": v for k, v in self.augment.log_values().items()})
        if self.lr_schedule is not None:
            values["train/lr_factor"] = self.learning_rate_factor
        self.log_values(values, progress_bar=True)

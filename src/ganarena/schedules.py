"""Learning-rate schedules over a run's training steps: the `lr_schedule` config group.

A schedule is a factor on each optimizer's configured learning rate, a pure function of the
training step and the run's planned length. The module sets both networks' learning rates
from it before every training step, so there is no scheduler state: a resumed run is on the
curve its own config gives, and a run resumed with a longer `train_steps` continues as if it
had been planned that long from the start.

`LinearDecay` keeps the configured learning rate, then takes it linearly to zero at the last
training step, as the CIFAR-10 ResNet code of Gulrajani et al. 2017 (WGAN-GP) and Miyato et
al. 2018 (SNGAN) does over the whole run. A GAN's players circle their equilibrium at a
radius that grows with the step size; shrinking the steps towards the end lets them settle,
which a run of fixed length (a study's budget) can plan for.
"""

from __future__ import annotations

from typing import Protocol

from ganarena.errors import GanArenaError


class LearningRateSchedule(Protocol):
    def factor(self, step: int, total: int) -> float:
        """The factor on the configured learning rates for the training step that follows
        `step` done steps, in a run of `total` training steps."""
        ...


class Constant:
    """The configured learning rates throughout (Lucic et al. 2018's setting)."""

    def factor(self, step: int, total: int) -> float:
        return 1.0

    def __repr__(self) -> str:
        return "Constant()"


class LinearDecay:
    """1 until `start` of the run (a fraction), then linearly down to 0 at its end."""

    def __init__(self, start: float = 0.0) -> None:
        if isinstance(start, bool) or not isinstance(start, int | float) or not 0 <= start < 1:
            raise GanArenaError(
                f"lr_schedule.start must be a fraction of the run in [0, 1), got {start!r}: set "
                "lr_schedule.start=0 (decay over the whole run) or 0.5 (over its second half)"
            )
        self.start = float(start)

    def factor(self, step: int, total: int) -> float:
        first_decayed = int(self.start * total)
        if step <= first_decayed:
            return 1.0
        return max(0.0, (total - step) / (total - first_decayed))

    def __repr__(self) -> str:
        return f"LinearDecay(start={self.start})"

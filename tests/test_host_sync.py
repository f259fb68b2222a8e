"""A training step that does not log reads nothing back from the device."""

from __future__ import annotations

import pytest

from ganarena.training import train

from .helpers import FAST
from .host_reads import COUNTERS, HostReadCounter, counting

#: The user's run as it is (default callbacks, a progress bar, a checkpoint every few steps),
#: logging every 6th step, over 3 short epochs.
USER_RUN = [
    *[o for o in FAST if not any(k in o for k in ("log_every", "progress_bar", "limit_train"))],
    "trainer.log_every_n_steps=6",
    "trainer.max_epochs=3",
    "+trainer.limit_train_batches=12",
    "callbacks.last_checkpoint.every_n_steps=10",
    "+callbacks.host_reads={_target_: tests.host_reads.HostReadCounter}",
]


def quiet_steps(counter: HostReadCounter) -> list[int]:
    """Steps whose window holds no logging (neither the step nor the row of the one before),
    no checkpoint and no epoch boundary."""
    busy = counter.logging_steps | counter.own_steps
    return [s for s in range(1, counter.steps_done + 1) if s not in busy and s - 1 not in busy]


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["loss=wgan_gp"],  # n_critic 5, a gradient penalty, weight clipping's sibling
        ["loss=r3gan", "augment=ada", "model.ema_decay=0.99"],
    ],
    ids=["default", "wgan_gp", "r3gan_ada_ema"],
)
def test_steps_that_do_not_log_read_nothing_from_the_device(compose_config, overrides) -> None:
    COUNTERS.clear()
    cfg = compose_config(*USER_RUN, *overrides)
    with counting():
        train(cfg)
    (counter,) = COUNTERS
    quiet = quiet_steps(counter)
    assert len(quiet) >= 5 and counter.logging_steps  # the run had both kinds of step
    reads = {step: counter.where[step] for step in quiet if counter.reads.get(step)}
    assert not reads, f"host reads on steps that do not log: {reads}"

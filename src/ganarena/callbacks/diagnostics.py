"""Training diagnostics from tensors the step already holds: no extra forward pass.

Computed only on logging steps, from `GANModule.last_training_step` (detached scores and
losses) and from the gradients as they are before each optimizer step. The values stay on
the device until the step's logger row is written, so there is no per-step host sync.
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.optim import Optimizer

from ganarena.errors import GanArenaError
from ganarena.gan_module import GANModule
from ganarena.losses import GANLoss


def gradient_norm(optimizer: Optimizer) -> Tensor:
    grads = [p.grad for group in optimizer.param_groups for p in group["params"]]
    norms = [torch.linalg.vector_norm(g.detach()) for g in grads if g is not None]
    return torch.linalg.vector_norm(torch.stack(norms)) if norms else torch.tensor(0.0)


def sample_weights(loss: GANLoss, real: Tensor, fake: Tensor, generator_fake: Tensor) -> dict:
    """Mean |dL/d score| x batch size per sample: the weight each sample gets in the gradient.

    For the BCE losses these are the probabilities that D is wrong (1-σ(r) and σ(f) in L_D,
    1-σ(f) in the non-saturating L_G, σ(f) in the minimax one); WGAN's are all 1. Taken by
    autograd on the detached scores, so they hold for any loss.
    """
    with torch.enable_grad():
        r, f, g = (s.detach().float().requires_grad_(True) for s in (real, fake, generator_fake))
        grad_r, grad_f = torch.autograd.grad(loss.discriminator_loss(r, f), (r, f))
        g_real = r.detach() if loss.generator_needs_real_scores else None
        (grad_g,) = torch.autograd.grad(loss.generator_loss(g, g_real), (g,))
    return {
        "diag/weight_d_real": grad_r.abs().mean() * r.numel(),
        "diag/weight_d_fake": grad_f.abs().mean() * f.numel(),
        "diag/weight_g": grad_g.abs().mean() * g.numel(),
    }


def score_statistics(loss: GANLoss, real: Tensor, fake: Tensor) -> dict:
    real, fake = real.float(), fake.float()
    values = {"diag/score_real": real.mean(), "diag/score_fake": fake.mean()}
    if loss.scores_are_logits:
        values.update(
            {
                "diag/p_real": torch.sigmoid(real).mean(),  # mean D(x) as a probability
                "diag/p_fake": torch.sigmoid(fake).mean(),  # mean D(G(z))
                "diag/acc_real": (real > 0).float().mean(),  # D says "real" for reals
                "diag/acc_fake": (fake < 0).float().mean(),  # D says "fake" for fakes
            }
        )
    return values


class TrainingDiagnostics(pl.Callback):
    """Logs D(x), D(G(z)), D's accuracy, gradient norms, sample weights and the total loss.

    `every_n_steps`: null logs on every logging step (`trainer.log_every_n_steps`); a value
    must be a multiple of it, since the diagnostics are computed on logging steps only.
    """

    def __init__(self, every_n_steps: int | None = None, sample_weights: bool = True) -> None:
        self.every_n_steps = every_n_steps
        self.log_sample_weights = sample_weights
        self._grad_norms: dict[str, Tensor] = {}

    def on_fit_start(self, trainer: pl.Trainer, pl_module: GANModule) -> None:
        every, log_every = self.every_n_steps, trainer.log_every_n_steps
        if every is not None and (every < 1 or log_every < 1 or every % log_every):
            raise GanArenaError(
                f"callbacks.diagnostics.every_n_steps={every} is not a multiple of "
                f"trainer.log_every_n_steps={log_every}: set it to a multiple, or null"
            )

    def _due(self, pl_module: GANModule) -> bool:
        every = self.every_n_steps
        return pl_module.logs_this_step and (
            every is None or pl_module.current_training_step % every == 0
        )

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: GANModule, optimizer: Optimizer
    ) -> None:
        if not self._due(pl_module):
            return
        generator_optimizer = trainer.optimizers[0]
        raw = getattr(optimizer, "optimizer", optimizer)  # a LightningOptimizer wraps it
        name = "diag/grad_norm_g" if raw is generator_optimizer else "diag/grad_norm_d"
        self._grad_norms[name] = gradient_norm(raw)  # under n_critic > 1: the last D step

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: GANModule, outputs, batch, batch_idx: int
    ) -> None:
        record = pl_module.last_training_step
        if record is None or not self._due(pl_module):
            return
        loss: GANLoss = pl_module.loss
        values = score_statistics(loss, record.real_scores, record.fake_scores)
        if self.log_sample_weights:
            values.update(
                sample_weights(
                    loss, record.real_scores, record.fake_scores, record.generator_fake_scores
                )
            )
        if loss.bce_family:
            nonsaturating_g = F.softplus(-record.generator_fake_scores.float()).mean()
            values["diag/total_loss"] = record.discriminator_loss + nonsaturating_g
        values.update(self._grad_norms)
        self._grad_norms = {}
        pl_module.log_dict(values)

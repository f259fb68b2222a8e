"""Training-step overhead of gan-arena over a hand-written PyTorch loop.

Both loops train the same DCGAN pair with the same loss and optimizers on the same data
(scikit-learn digits, 8x8) for the same number of steps; the script reports steps per second
and gan-arena's overhead. Run: `python benchmarks/step_overhead.py [--steps 2000]`.
"""

from __future__ import annotations

import argparse
import platform
import time

import lightning.pytorch as pl
import torch

from ganarena.data import DigitsDataModule
from ganarena.gan_module import GANModule
from ganarena.losses import NonSaturating
from ganarena.networks import DCGANDiscriminator, DCGANGenerator


def adam(params):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))


def networks(shape: tuple[int, ...]) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(0)
    return DCGANGenerator(shape), DCGANDiscriminator(shape)


def hand_written(datamodule: DigitsDataModule, steps: int) -> float:
    """The loop one would write by hand: same nets, same loss, nothing else."""
    generator, discriminator = networks(datamodule.sample_shape)
    loss = NonSaturating()
    opt_g, opt_d = adam(generator.parameters()), adam(discriminator.parameters())
    loader = datamodule.train_dataloader()
    done, start = 0, time.perf_counter()
    while done < steps:
        for real, _ in loader:
            z = torch.randn(real.shape[0], generator.latent_dim)
            with torch.no_grad():
                fake = generator(z)
            loss_d = loss.discriminator_loss(discriminator(real), discriminator(fake))
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            discriminator.requires_grad_(False)
            fake_scores = discriminator(generator(torch.randn_like(z)))
            loss_g = loss.generator_loss(fake_scores)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            discriminator.requires_grad_(True)
            done += 1
            if done == steps:
                break
    return time.perf_counter() - start


class StepTimer(pl.Callback):
    def on_train_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        self.seconds = time.perf_counter() - self.start


def with_lightning(datamodule: DigitsDataModule, steps: int) -> float:
    generator, discriminator = networks(datamodule.sample_shape)
    module = GANModule(generator, discriminator, NonSaturating(), adam, adam)
    timer = StepTimer()
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=2 * steps,  # optimizer steps: one D and one G step per training step
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
    )
    trainer.fit(module, datamodule=datamodule)
    return timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    datamodule = DigitsDataModule(batch_size=64)
    datamodule.setup("fit")
    print(
        f"machine: {platform.processor() or platform.machine()}, torch threads "
        f"{torch.get_num_threads()}, torch {torch.__version__}"
    )
    hand_written(datamodule, 200)  # warm-up
    hand = min(hand_written(datamodule, args.steps) for _ in range(args.repeats))
    arena = min(with_lightning(datamodule, args.steps) for _ in range(args.repeats))
    print(f"hand-written loop: {args.steps / hand:8.1f} steps/s")
    print(f"gan-arena:         {args.steps / arena:8.1f} steps/s")
    print(f"overhead:          {100 * (arena / hand - 1):8.1f} %")


if __name__ == "__main__":
    main()

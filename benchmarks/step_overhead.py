"""Training-step overhead of gan-arena over a hand-written PyTorch loop.

Both loops train the same DCGAN pair with the same loss and optimizers on the same data
(scikit-learn digits, 8x8) for the same number of steps; the script reports steps per second
and gan-arena's overhead. Run: `python benchmarks/step_overhead.py [--steps 2000] [--device cuda]`.
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


def hand_written(datamodule: DigitsDataModule, steps: int, device: torch.device) -> float:
    """The loop one would write by hand: same nets, same loss, nothing else."""
    generator, discriminator = (net.to(device) for net in networks(datamodule.sample_shape))
    loss = NonSaturating()
    opt_g, opt_d = adam(generator.parameters()), adam(discriminator.parameters())
    loader = datamodule.train_dataloader()
    done, start = 0, time.perf_counter()
    while done < steps:
        for real, _ in loader:
            real = real.to(device, non_blocking=True)
            z = torch.randn(real.shape[0], generator.latent_dim, device=device)
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
    synchronize(device)
    return time.perf_counter() - start


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a time covers the work and not only its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class StepTimer(pl.Callback):
    def on_train_start(self, trainer, pl_module) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        synchronize(pl_module.device)
        self.seconds = time.perf_counter() - self.start


def with_lightning(
    datamodule: DigitsDataModule, steps: int, device: torch.device, precision: str = "32-true"
) -> float:
    generator, discriminator = networks(datamodule.sample_shape)
    module = GANModule(generator, discriminator, NonSaturating(), adam, adam)
    timer = StepTimer()
    trainer = pl.Trainer(
        accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=1,
        precision=precision,
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
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    device = torch.device(args.device)
    datamodule = DigitsDataModule(batch_size=args.batch_size)
    datamodule.setup("fit")
    print(
        f"machine: {platform.processor() or platform.machine()}, torch threads "
        f"{torch.get_num_threads()}, torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
        + f", batch {args.batch_size}"
    )
    hand_written(datamodule, 200, device)  # warm-up
    hand_times, arena_times = [], []
    for _ in range(args.repeats):  # alternate, so a busy spell on a shared machine hits both
        hand_times.append(hand_written(datamodule, args.steps, device))
        arena_times.append(with_lightning(datamodule, args.steps, device))
    hand, arena = min(hand_times), min(arena_times)
    print(f"hand-written loop: {args.steps / hand:8.1f} steps/s")
    print(f"gan-arena:         {args.steps / arena:8.1f} steps/s")
    print(f"overhead:          {100 * (arena / hand - 1):8.1f} %")
    if device.type == "cuda":
        bf16 = min(
            with_lightning(datamodule, args.steps, device, "bf16-mixed")
            for _ in range(args.repeats)
        )
        print(f"gan-arena, bf16-mixed: {args.steps / bf16:8.1f} steps/s")


if __name__ == "__main__":
    main()

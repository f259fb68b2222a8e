"""Throughput against batch size and image size, and of two DDP processes against one.

Part 1 (`--batch-sizes`, `--image-sizes`): the default DCGAN pair and the non-saturating
loss on the digits, resized to each image size, in the hand-written loop of
`step_overhead.py` and through `GANModule` and a Lightning `Trainer` (no callbacks, no
loggers), in turns. Each row runs about `--seconds` per loop after a few warm-up steps and
reports steps/s and real images/s (a training step shows D one real batch); rows whose step
takes more than `--max-step-seconds` are skipped (on a CPU, the large images).

Part 2 (`--ddp`): `python src/train.py` as a user runs it (sample metrics removed, timed from
step `--warmup`), one process against `trainer=ddp_cpu` with two (shared memory, one torch thread
each, the same batch per process), and against two independent one-process runs at once
(the ceiling the cores allow), in turns; and the time of one all-reduce of a flag, of D's
gradients and of G's.

Run: `python benchmarks/scaling.py [--device cuda] [--ddp] [--plot docs/images/scaling.png]`
(`--replot --plot PATH` draws the saved results again).
Results go to `benchmarks/results/scaling.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import threading
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from step_overhead import hand_written, networks, user_path, with_lightning

from ganarena.data import DigitsDataModule
from ganarena.shared_memory import SharedMemoryAllReduce, new_shared_file

RESULTS = Path(__file__).resolve().parent / "results" / "scaling.json"
WARMUP_STEPS = 3


def probe_step_seconds(datamodule: DigitsDataModule, device: torch.device) -> float:
    """Seconds of one hand-written training step, after one warm-up step."""
    hand_written(datamodule, 1, device)
    return hand_written(datamodule, 1, device)


def scaling_rows(args: argparse.Namespace, device: torch.device) -> list[dict]:
    rows = []
    for image_size in args.image_sizes:
        for batch_size in args.batch_sizes:
            datamodule = DigitsDataModule(image_size=image_size, batch_size=batch_size)
            datamodule.setup("fit")
            step_seconds = probe_step_seconds(datamodule, device)
            if step_seconds > args.max_step_seconds:
                print(
                    f"{image_size:3d} px, batch {batch_size:5d} and larger: skipped, a step "
                    f"takes {step_seconds:.1f} s (--max-step-seconds {args.max_step_seconds})"
                )
                break  # larger batches take longer still
            steps = max(5, round(args.seconds / step_seconds))
            hand = hand_written(datamodule, steps, device)
            arena = with_lightning(datamodule, steps, device, warmup=WARMUP_STEPS)
            row = {
                "image_size": image_size,
                "batch_size": batch_size,
                "steps": steps,
                "hand_steps_per_s": steps / hand,
                "arena_steps_per_s": steps / arena,
                "hand_images_per_s": steps * batch_size / hand,
                "arena_images_per_s": steps * batch_size / arena,
            }
            rows.append(row)
            print(
                f"{image_size:3d} px, batch {batch_size:5d}: hand {row['hand_images_per_s']:9.0f}"
                f" img/s, gan-arena {row['arena_images_per_s']:9.0f} img/s "
                f"({hand / arena:.3f} of the hand-written loop; {steps} steps)",
                flush=True,
            )
    return rows


def side_by_side_seconds(args: argparse.Namespace, device: torch.device) -> list[float]:
    """Two independent one-process runs at once: what two processes get from these cores
    with no communication at all, the ceiling for two DDP ranks."""
    seconds: list[float] = [0.0, 0.0]

    def run(index: int) -> None:
        seconds[index] = user_path(args.ddp_steps, args.warmup, args.ddp_batch_size, device, [])

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seconds


def _milliseconds_per_call(all_reduce, values: torch.Tensor) -> float:
    for _ in range(20):
        all_reduce(values)
    start = time.perf_counter()
    for _ in range(200):
        all_reduce(values)
    return (time.perf_counter() - start) / 200 * 1e3


def _time_all_reduce(rank: int, port: int, sizes: list[int], out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    made = [new_shared_file(2) if rank == 0 else None]
    dist.broadcast_object_list(made, src=0)
    shared = SharedMemoryAllReduce(made[0], rank, 2)
    for size in sizes:
        values = torch.randn(size)
        gloo = _milliseconds_per_call(dist.all_reduce, values)
        through_memory = _milliseconds_per_call(shared.all_reduce, values)
        if rank == 0:
            out[size] = (gloo, through_memory)
    shared.close()
    dist.barrier()
    if rank == 0:
        made[0].unlink()
    dist.destroy_process_group()


def all_reduce_milliseconds(sizes: list[int]) -> dict[int, tuple[float, float]]:
    """Milliseconds per all-reduce between two idle CPU processes, for each size in floats:
    through gloo and through shared memory (what `gan_ddp` uses on one machine)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = mp.Manager().dict()
    mp.spawn(_time_all_reduce, args=(port, sizes, out), nprocs=2, join=True)
    return dict(out)


def ddp_rows(args: argparse.Namespace, device: torch.device) -> dict:
    """Images/s of `src/train.py` with one process, with two (gloo on the CPU), and of two
    independent runs side by side, in turns `--ddp-repeats` times (speed-ups against the
    one-process run of the same turn, and their median); and what one gloo all-reduce costs."""
    batch, steps = args.ddp_batch_size, args.ddp_steps
    turns = []
    for _ in range(args.ddp_repeats):
        one = user_path(steps, args.warmup, batch, device, [])
        two = user_path(steps, args.warmup, batch, device, ["trainer=ddp_cpu"])
        apart = side_by_side_seconds(args, device)
        turn = {
            "one_process_images_per_s": steps * batch / one,
            "two_processes_images_per_s": steps * 2 * batch / two,
            "side_by_side_images_per_s": sum(steps * batch / seconds for seconds in apart),
        }
        turn["speed_up"] = turn["two_processes_images_per_s"] / turn["one_process_images_per_s"]
        turn["side_by_side_speed_up"] = (
            turn["side_by_side_images_per_s"] / turn["one_process_images_per_s"]
        )
        turns.append(turn)
        print(
            f"DDP, batch {batch} per process: 1 process {turn['one_process_images_per_s']:.0f} "
            f"img/s, 2 processes {turn['two_processes_images_per_s']:.0f} img/s = "
            f"{turn['speed_up']:.2f} x; two independent runs side by side "
            f"{turn['side_by_side_images_per_s']:.0f} img/s = "
            f"{turn['side_by_side_speed_up']:.2f} x",
            flush=True,
        )
    generator, discriminator = networks(DigitsDataModule().sample_shape)
    sizes = {
        "flag": 2,
        "D gradients": sum(p.numel() for p in discriminator.parameters()),
        "G gradients": sum(p.numel() for p in generator.parameters()),
    }
    latency = all_reduce_milliseconds(sorted(set(sizes.values())))
    result = {
        "batch_size_per_process": batch,
        "steps": steps,
        "turns": turns,
        "speed_up": statistics.median(turn["speed_up"] for turn in turns),
        "side_by_side_speed_up": statistics.median(t["side_by_side_speed_up"] for t in turns),
        "all_reduce_ms": {name: latency[size][0] for name, size in sizes.items()},
        "shared_memory_all_reduce_ms": {name: latency[size][1] for name, size in sizes.items()},
    }
    print(
        f"median over {len(turns)} turns: 2 processes {result['speed_up']:.2f} x one; two "
        f"independent runs {result['side_by_side_speed_up']:.2f} x",
        flush=True,
    )
    costs = ", ".join(
        f"{name} ({size} floats) {latency[size][0]:.2f} ms through gloo, "
        f"{latency[size][1]:.3f} ms through shared memory"
        for name, size in sizes.items()
    )
    print(f"one all-reduce between two idle processes: {costs}", flush=True)
    return result


def plot(rows: list[dict], path: Path, machine: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for image_size in sorted({row["image_size"] for row in rows}):
        mine = [row for row in rows if row["image_size"] == image_size]
        batches = [row["batch_size"] for row in mine]
        line = axes.plot(batches, [r["arena_images_per_s"] for r in mine], "o-")[0]
        axes.plot(batches, [r["hand_images_per_s"] for r in mine], "x--", color=line.get_color())
        line.set_label(f"{image_size}x{image_size}")
    axes.set(xscale="log", yscale="log", xlabel="batch size", ylabel="real images / s")
    every_batch = sorted({row["batch_size"] for row in rows})
    axes.set_xticks(every_batch, [str(b) for b in every_batch])
    axes.set_title(f"DCGAN, non-saturating: gan-arena (o) and hand-written (x)\n{machine}")
    axes.title.set_fontsize(9)
    axes.legend(title="image size")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[64, 128, 256, 512, 1024])
    parser.add_argument("--image-sizes", type=int, nargs="*", default=[8, 16, 32, 64])
    parser.add_argument("--seconds", type=float, default=10.0, help="per loop and row")
    parser.add_argument("--max-step-seconds", type=float, default=1.0, help="skip slower rows")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--ddp", action="store_true", help="also 2 DDP processes against 1")
    parser.add_argument("--ddp-steps", type=int, default=1000)
    parser.add_argument("--ddp-batch-size", type=int, default=64)
    parser.add_argument("--ddp-repeats", type=int, default=3, help="turns of the three runs")
    parser.add_argument("--warmup", type=int, default=200, help="DDP rows: steps not timed")
    parser.add_argument("--plot", type=Path, default=None, help="write the figure here")
    parser.add_argument("--replot", action="store_true", help="only plot the saved results")
    args = parser.parse_args()
    if args.replot:
        saved = json.loads(RESULTS.read_text())
        plot(saved["rows"], args.plot, saved["machine"])
        return
    torch.set_num_threads(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    device = torch.device(args.device)
    machine = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"{os.cpu_count()} x {platform.machine()} CPU cores, {args.threads} torch thread(s)"
    )
    print(f"machine: {machine}, torch {torch.__version__}")
    results: dict = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results.update(machine=machine, torch=torch.__version__, date=time.strftime("%F"))
    if args.batch_sizes:  # what this run did not measure keeps its saved figures
        results["rows"] = scaling_rows(args, device)
    if args.ddp:
        results["ddp"] = ddp_rows(args, device)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    if args.plot and results.get("rows"):
        plot(results["rows"], args.plot, machine)


if __name__ == "__main__":
    main()

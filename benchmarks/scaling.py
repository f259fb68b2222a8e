"""Two data-parallel processes against one: real images per second of `python src/train.py`.

The default run as a user runs it (sample metrics removed, timed from step `--warmup` on,
as in `step_overhead.py`), with one process, with two (`trainer.devices=2`: gloo between
CPU processes, one torch thread each, the same batch per process), and as two independent
one-process runs at once (what the cores give two processes that never talk: the ceiling),
in turns `--repeats` times; then the time of one gloo all-reduce of a flag and of each
network's gradients between two idle processes.

    python benchmarks/scaling.py --steps 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import threading
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from step_overhead import compose_run, user


def side_by_side(steps: int, warmup: int, overrides: list[str]) -> list[float]:
    """Seconds of two independent one-process runs started together."""
    seconds = [0.0, 0.0]

    def run(index: int) -> None:
        seconds[index] = user(overrides, steps, warmup)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seconds


def _time_all_reduce(rank: int, port: int, sizes: list[int], out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    for size in sizes:
        values = torch.randn(size)
        for _ in range(20):
            dist.all_reduce(values)
        start = time.perf_counter()
        for _ in range(200):
            dist.all_reduce(values)
        if rank == 0:
            out[size] = (time.perf_counter() - start) / 200 * 1e3
    dist.destroy_process_group()


def all_reduce_milliseconds(sizes: list[int]) -> dict[int, float]:
    """Milliseconds per gloo all-reduce between two idle CPU processes, per size in floats."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = mp.Manager().dict()
    mp.spawn(_time_all_reduce, args=(port, sizes, out), nprocs=2, join=True)
    return dict(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64, help="per process")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"
    base = [f"data.batch_size={args.batch_size}"]
    steps, images = args.steps, args.steps * args.batch_size
    print(f"{os.cpu_count()} cores, torch {torch.__version__}, batch {args.batch_size}/process")
    two_speed_ups, apart_speed_ups = [], []
    for _ in range(args.repeats):
        one = images / user(base, steps, args.warmup)
        two = 2 * images / user([*base, "trainer.devices=2"], steps, args.warmup)
        apart = sum(images / seconds for seconds in side_by_side(steps, args.warmup, base))
        two_speed_ups.append(two / one)
        apart_speed_ups.append(apart / one)
        print(
            f"1 process {one:,.0f} img/s; 2 processes {two:,.0f} img/s = {two / one:.2f} x; "
            f"2 independent runs {apart:,.0f} img/s = {apart / one:.2f} x",
            flush=True,
        )
    print(
        f"median of {args.repeats} turns: 2 processes {statistics.median(two_speed_ups):.2f} x "
        f"one; 2 independent runs {statistics.median(apart_speed_ups):.2f} x"
    )
    _, module = compose_run(base)
    sizes = {
        "a flag": 2,
        "D's gradients": sum(p.numel() for p in module.discriminator.parameters()),
        "G's gradients": sum(p.numel() for p in module.generator.parameters()),
    }
    latency = all_reduce_milliseconds(sorted(set(sizes.values())))
    costs = ", ".join(f"{n} ({s:,} floats) {latency[s]:.2f} ms" for n, s in sizes.items())
    print(f"one gloo all-reduce between two idle processes: {costs}")


if __name__ == "__main__":
    main()

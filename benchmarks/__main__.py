"""Run every benchmark: ``python -m benchmarks [--only NAME ...] [--list] [options...]``.

Each ``benchmarks/bench_*.py`` module that defines ``main(argv: list[str]) -> int`` is a
benchmark. They run in name order; ``--only stats`` (or ``--only bench_stats``) runs one,
``--only`` may be repeated. Any other options are passed to every benchmark that runs, so a
benchmark should read its options with ``argparse.ArgumentParser.parse_known_args`` (options a
benchmark does not know are ignored by it, e.g. ``--sizes`` is read by ``bench_stats``).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> dict[str, Callable[[list[str]], int]]:
    """Benchmark name (without ``bench_``) -> its ``main`` (taking ``argv``)."""
    found: dict[str, Callable[[list[str]], int]] = {}
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        main = getattr(module, "main", None)
        if callable(main):
            name = info.name.removeprefix("bench_")
            found[name] = main
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only this benchmark")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args, rest = parser.parse_known_args(argv)
    benches = discover()
    if args.list:
        print("\n".join(benches))
        return 0
    wanted = [name.removeprefix("bench_") for name in args.only] or list(benches)
    unknown = [name for name in wanted if name not in benches]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; available: {', '.join(benches)}")
    status = 0
    for name in wanted:
        print(f"=== benchmark {name} ===", flush=True)
        start = time.perf_counter()
        code = benches[name](list(rest))
        print(f"=== {name}: done in {time.perf_counter() - start:.1f} s (exit {code}) ===\n", flush=True)
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main())

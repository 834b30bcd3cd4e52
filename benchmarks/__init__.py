"""postcart benchmarks: ``python -m benchmarks`` runs every ``bench_*.py`` module (see README.md)."""

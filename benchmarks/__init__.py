"""Side-by-side measurements; each script prints a table recorded in BENCHMARKS.md."""

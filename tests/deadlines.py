"""How long a test lets a child process, a thread or an awaited event take before calling it
hung.

A hang guard, not a speed limit: it only turns a hang into a failure instead of a stuck
build. Tests must pass on a busy two-core machine, so the guard is far above anything
measured there: the slowest guarded step, the quick benchmark, takes about 30 s with the
machine busy (six processes on two cores); HANG is ten times that. Speed targets belong in
benchmarks/bench.py, never in a test.
"""

HANG = 300.0  # seconds

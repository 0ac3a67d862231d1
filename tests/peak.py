"""How a test measures the peak memory of a command it runs in a child process."""

from __future__ import annotations

# Run with ``python -c MEASURE ARGS...``: the command line's main, then the child's own peak.
# VmHWM is the peak of the child's memory since its exec. ru_maxrss is not: Linux carries the
# parent's peak across an exec, so every child of a large test process reports at least the
# size of that process.
MEASURE = """
import resource, sys
from importer.cli import main
code = main(sys.argv[1:])
try:
    with open("/proc/self/status", encoding="ascii") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:  # no /proc: the best there is
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("maxrss_kib", kib, flush=True)
sys.exit(code)
"""

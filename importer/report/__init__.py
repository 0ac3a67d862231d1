"""Report: row results in, the run's folder out: results.csv, failures.csv/.xlsx, summary.json.

Every input row gets one line in results.csv, in input order, written while the run goes;
failed rows also go to a failures file that is itself a valid input. Beside the files: the
progress bar, the JSON log, the export file (customers out, in a layout a run reads back),
the pruning of old run folders, and the results as DataFrames. It writes what it is given
and decides nothing about sending; it knows nothing of Graph or sign-in.
"""

from . import logs
from .exportfile import EXPORT_SUFFIXES, ExportFile
from .frames import STATUSES, results_frame
from .progress import Progress
from .results import ReportWriter, default_run_dir, summary_line
from .retention import REPORT_SUFFIX, SUMMARY, prune_runs
from .text import FAILED_STATUSES, error_text

__all__ = [
    "EXPORT_SUFFIXES",
    "FAILED_STATUSES",
    "REPORT_SUFFIX",
    "STATUSES",
    "SUMMARY",
    "ExportFile",
    "Progress",
    "ReportWriter",
    "default_run_dir",
    "error_text",
    "logs",
    "prune_runs",
    "results_frame",
    "summary_line",
]

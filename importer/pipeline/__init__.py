"""The pieces of one run below its entry point (``importer.runner``): the rows planned, each
business's phone region, the dry run and the sender.

Takes the opened input's rows, the column mapping and the config from the runner; gives each
row's result, in order, to the runner's report writer. ``feed.py`` reads, maps and keys the
rows; ``regions.py`` settles the phone region of each business of a run into several;
``dry.py`` maps every row without sending; ``sender.py`` drives send's pool, sync and journal;
``results.py`` words the rows that are not sent. It must not open the input, parse flags, write
the summary or import the runner (calls run runner -> pipeline -> the parts below), and it never
reaches into a part's modules: send, map and report are entered through their packages.
"""

from .dry import dry_run
from .feed import PREFETCH_ROWS, Feed, Planned, peek
from .regions import Regions, say_region
from .results import duplicate_result, invalid_result, not_sent, problems_text, repeats_text
from .sender import Sender, state_dir

__all__ = ["PREFETCH_ROWS", "Feed", "Planned", "Regions", "Sender", "dry_run", "duplicate_result",
           "invalid_result", "not_sent", "peek", "problems_text", "repeats_text", "say_region",
           "state_dir"]

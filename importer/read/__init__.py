"""Read: a spreadsheet file (or a DataFrame, or records) in, rows of text out.

Takes a path (CSV, TSV, XLSX), a pandas DataFrame or a list of dicts (frames.py) and gives a
``LoadedInput``: the header, and every row as the text a person sees in the sheet (leading
zeros, long numbers and dates as shown), with its row number. It finds the header below a title
block, undoes the failures file's formula guard, and bounds what a hostile file can cost before
it reads it. Conversion into customer fields is the mapper's job, not this part's; it knows
nothing of Graph, sign-in or reports.
"""

from .frames import frame_row_offset, is_frame, open_source
from .loader import LoadedInput, open_input, sha256_file

__all__ = ["LoadedInput", "frame_row_offset", "is_frame", "open_input", "open_source", "sha256_file"]

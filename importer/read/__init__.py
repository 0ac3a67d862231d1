"""Read: a spreadsheet file in, rows of text out.

Takes a path (CSV, TSV, XLSX) and gives a ``LoadedInput``: the header, and every row as the
text a person sees in the sheet (leading zeros, long numbers and dates as shown), with its row
number. It finds the header below a title block, undoes the failures file's formula guard, and
bounds what a hostile file can cost before it reads it. Conversion into customer fields is the
mapper's job, not this part's; it knows nothing of Graph, sign-in or reports.
"""

from .loader import HeaderScore, LoadedInput, open_input, sha256_file

__all__ = ["HeaderScore", "LoadedInput", "open_input", "sha256_file"]

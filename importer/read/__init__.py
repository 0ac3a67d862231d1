"""Read: a spreadsheet file (or a DataFrame, or records) in, rows of text out.

Takes a path (CSV, TSV, XLSX, XLS, XLSB, ODS), a pandas DataFrame or a list of dicts
(frames.py) and gives a ``LoadedInput``: the header, and every row as the text a person sees in
the sheet (leading zeros, long numbers and dates as shown), with its row number. It picks the
sheet and the header below a title block (how well a row fits customer data is the mapper's to
say: the run hands in ``importer.map.header_fit`` as ``score``), skips a report's footer, undoes
the failures file's formula guard, and bounds what a hostile file can cost before it reads it.
``ENCODINGS`` names the code pages a CSV may be read in (encodings.py detects which).
Conversion into customer fields is the mapper's job, not this part's; it knows nothing of
Graph, sign-in or reports.
"""

from .budget import ReadBusy
from .encodings import CANDIDATES as ENCODINGS
from .frames import frame_row_offset, is_frame, open_source
from .loader import HeaderScore, LoadedInput, open_input, sha256_file

__all__ = ["ENCODINGS", "HeaderScore", "LoadedInput", "ReadBusy", "frame_row_offset", "is_frame",
           "open_input",
           "open_source", "sha256_file"]

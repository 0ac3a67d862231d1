"""Export: a business's customers out, as a .csv or .xlsx that ``run`` reads back as it stands.

    bookings-import export --config FILE --out customers.csv [--business ID ...]

Takes the config, a token source and where to write; lists every customer of each business
(all pages, each page retried with the run's policy), writes one row per customer through
``importer.map.export_row`` and ``importer.report.ExportFile``, and, for a SharePoint or
OneDrive folder URL, uploads the finished file there through ``importer.drive``. It only
reads the businesses: it never creates, changes or deletes a customer.
"""

from .exporter import ExportOutcome, export_customers

__all__ = ["ExportOutcome", "export_customers"]

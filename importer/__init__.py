"""bookings-import: bulk-import customers from spreadsheets into Microsoft Bookings."""

__version__ = "0.1.0"

"""The version of bookings-import, in one place: the package exports it, the modules that
name it (User-Agent, --version, reports) read it here without importing the package's API."""

__version__ = "0.1.0"

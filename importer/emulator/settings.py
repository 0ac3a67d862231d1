"""How an emulator behaves: which tokens and businesses exist, how fast and how faulty it is."""

from __future__ import annotations

from dataclasses import dataclass, field

from .faults import FaultRule

SANDBOX_BUSINESS_NAME = "Sandbox business"
# The document library of --sandbox: a SharePoint site with Inbox, Reports and Backups folders.
SANDBOX_LIBRARY = "https://contoso.sharepoint.com/sites/Sandbox/Shared%20Documents"


@dataclass
class EmulatorSettings:
    """Everything a test or benchmark may tune; ``Emulator.reset()`` re-reads it.

    ``tokens=None`` accepts any non-empty bearer token; ``businesses=None`` makes every business id
    exist (created on first use, named "Sandbox business").
    """

    tokens: set[str] | None = None
    businesses: dict[str, str] | None = None
    read_only_businesses: set[str] = field(default_factory=set)
    # Business id -> its address (physicalAddress: street, city, state, countryOrRegion,
    # postalCode) and phone, as GET /solutions/bookingBusinesses/{id} gives them. A business
    # not listed is in the country its mailbox domain names (contoso.it: Italy), else in the US.
    business_addresses: dict[str, dict[str, str]] = field(default_factory=dict)
    business_phones: dict[str, str] = field(default_factory=dict)
    # Bookings serves four concurrent requests per app id and booking mailbox; the fifth gets 429.
    max_concurrent: int = 4
    retry_after: float = 0.2  # seconds, sent in the Retry-After of the emulator's own 429s
    latency: float = 0.0  # seconds added to every request while it holds its in-flight slot
    jitter: float = 0.0  # latency varies uniformly by +- this much
    page_size: int = 100
    seed: int | None = None
    faults: list[FaultRule] = field(default_factory=list)
    # The service bug of microsoft-graph-docs-contrib#531: emailAddress stored as displayName.
    email_as_display_name_rate: float = 0.0
    versions: tuple[str, ...] = ("v1.0", "beta")
    # Document libraries (web URLs) that exist from the start, each with the folders Inbox,
    # Reports and Backups; more are added with ``emulator.files.add_drive``.
    libraries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_concurrent < 1:
            raise ValueError(f"max_concurrent must be at least 1, got {self.max_concurrent}")
        if self.page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {self.page_size}")
        for name in ("retry_after", "latency", "jitter"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if not 0.0 <= self.email_as_display_name_rate <= 1.0:
            raise ValueError("email_as_display_name_rate is a probability between 0 and 1")

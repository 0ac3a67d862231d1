"""Injected faults: which requests fail, and how.

A ``FaultRule`` matches requests by method and path; of the matching ones it fires on the first
``first``, on every ``every``-th, and with probability ``rate`` (any of the three; a rule that sets
none of them fires on every match). Every matching rule counts each request; the first rule that
fires decides the fault. The randomness is seeded per rule, so a seeded run repeats exactly.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

# Answered at once, without acting.
STATUS_KINDS = frozenset({"status_503", "status_504", "status_429", "status_500_empty", "html_502"})
# Decided before anything is read: the service never sees the request.
RESET_BEFORE = "reset_before"
# The service acts, then the answer goes wrong.
DROP_AFTER_CREATE = "drop_after_create"
MALFORMED_JSON = "malformed_json"
SLOW = "slow"
KINDS = STATUS_KINDS | {RESET_BEFORE, DROP_AFTER_CREATE, MALFORMED_JSON, SLOW}


@dataclass(frozen=True)
class FaultRule:
    kind: str
    rate: float = 0.0
    first: int = 0
    every: int = 0
    methods: tuple[str, ...] = ("POST",)  # "*" matches any method
    # The Retry-After header value to send ("1.5", "0.25", an HTTP date); None sends none.
    retry_after: str | float | None = None
    path_contains: str = ""
    delay: float = 0.0  # seconds, for kind "slow"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; use one of {sorted(KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate is a probability between 0 and 1, got {self.rate}")
        if self.first < 0 or self.every < 0 or self.delay < 0:
            raise ValueError("fault first, every and delay must not be negative")
        # Accept a list from JSON or a bare string, keep a tuple so the rule stays hashable.
        methods = (self.methods,) if isinstance(self.methods, str) else tuple(self.methods)
        object.__setattr__(self, "methods", tuple(m.upper() for m in methods))

    @property
    def always(self) -> bool:
        return not (self.rate or self.first or self.every)

    def matches(self, method: str, raw_path: str, *, envelope: bool = False) -> bool:
        if "*" not in self.methods and method.upper() not in self.methods:
            return False
        if envelope and not self.path_contains:
            # A $batch envelope is hit only by rules that name it: a plain "POST" rule is about
            # the creates inside the batch, which are matched one by one.
            return False
        return self.path_contains in raw_path or self.path_contains in unquote(raw_path)

    def retry_after_header(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        value = self.retry_after
        return {"Retry-After": value if isinstance(value, str) else f"{value:g}"}


def fault_rule_from_dict(data: Any) -> FaultRule:
    """Build a rule from JSON (the admin endpoint); a ValueError names what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("each fault rule must be a JSON object")
    names = {f.name for f in dataclasses.fields(FaultRule)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown fault rule field(s) {sorted(unknown)}; use {sorted(names)}")
    try:
        return FaultRule(**data)
    except TypeError as exc:
        raise ValueError(str(exc)) from exc


class FaultPlan:
    """The rules in force and how far each has counted."""

    def __init__(self, rules: list[FaultRule], seed: int | None) -> None:
        self.rules = list(rules)
        self._seen = [0] * len(self.rules)
        self._rngs = [
            random.Random(f"{seed}:fault:{i}") if seed is not None else random.Random()
            for i in range(len(self.rules))
        ]

    def decide(self, method: str, raw_path: str, *, envelope: bool = False) -> FaultRule | None:
        chosen: FaultRule | None = None
        for i, rule in enumerate(self.rules):
            if not rule.matches(method, raw_path, envelope=envelope):
                continue
            self._seen[i] += 1
            n = self._seen[i]
            fires = (
                rule.always
                or n <= rule.first
                or (rule.every > 0 and n % rule.every == 0)
                # Draw only for rules with a rate, so adding one rule leaves the others' draws.
                or (rule.rate > 0 and self._rngs[i].random() < rule.rate)
            )
            if fires and chosen is None:
                chosen = rule
        return chosen

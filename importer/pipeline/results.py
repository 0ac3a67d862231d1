"""The results of rows that are not sent: invalid, repeats of an earlier row, or not sent
because the run stopped. The words a person reads in the report for each."""

from __future__ import annotations

from ..models import MappedRow, Problem, RowResult, Status
from .feed import Planned


def problems_text(problems: tuple[Problem, ...]) -> str:
    return "; ".join(str(p) for p in problems)


def invalid_result(mapped: MappedRow) -> RowResult:
    return RowResult.of(mapped, Status.INVALID, problems=mapped.problems,
                        message=problems_text(mapped.problems))


def not_sent(mapped: MappedRow, reason: str, business_id: str = "") -> RowResult:
    return RowResult.of(mapped, Status.NOT_SENT, message=reason, business_id=business_id)


_SAME = {"email": "same email", "namephone": "same name and phone", "body": "same values"}


def repeats_text(key: str, repeats: int) -> str:
    return f"repeats row {repeats} ({_SAME.get(key.partition(':')[0], 'same customer')})"


def duplicate_result(p: Planned) -> RowResult:
    assert p.repeats is not None
    return RowResult.of(p.mapped, Status.DUPLICATE, business_id=p.business_id,
                        message=repeats_text(p.key, p.repeats))


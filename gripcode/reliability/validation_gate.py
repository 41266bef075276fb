"""Which codes of a machine coder passed its latest validation: the gate of `review accept --validated`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.db.models import Code, Validation
from gripcode.errors import AnalysisError
from gripcode.reliability.machine_units import latest_validation, machine_coder


@dataclass
class Gate:
    validation: Validation
    machine: str
    min_alpha: float
    results: list[tuple[str, float | None, bool]] = field(default_factory=list)  # code, lower bound, passed
    passed_ids: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        v = self.validation
        passed = sum(1 for _, _, ok in self.results if ok)
        head = (f"Validation {v.id} of {self.machine} ({v.created_at:%Y-%m-%d}, against {', '.join(v.against)}, "
                f"{v.unit} units, reference {v.reference}): the lower bound of alpha's interval reaches "
                f"{self.min_alpha:g} for {passed} of {len(self.results)} code(s)")
        rows = [f"  {code:<30} {'-' if low is None else f'{low:.3f}':>7}  "
                f"{'accepted' if ok else 'left waiting'}" for code, low, ok in self.results]
        return [head, *rows]


def passing_codes(session: Session, machine_name: str, min_alpha: float) -> Gate:
    machine = machine_coder(session, machine_name)
    validation = latest_validation(session, machine)
    if validation is None:
        raise AnalysisError(f"{machine.name} has not been validated yet: `gripcode validate {machine.name} "
                            "--against A,B` first")
    gate = Gate(validation, machine.name, min_alpha)
    ids = dict(session.execute(select(Code.slug, Code.id)).tuples().all())
    for code, row in validation.results.items():
        low = row.get("alpha_low")
        ok = low is not None and low >= min_alpha
        gate.results.append((code, low, ok))
        if ok and code in ids:
            gate.passed_ids.append(ids[code])
    return gate

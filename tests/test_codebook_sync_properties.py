"""Property: any sequence of renames, merges and retirements, each synced, keeps every coding, on the code
that a researcher following the sequence by hand would expect."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gripcode.codebook.loader import parse_codebook
from gripcode.codebook.sync import sync_codebook
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Base, Code, Coder, Coding, Document

START = {"c0": None, "c1": "c0", "c2": "c0", "c3": None, "c4": "c3", "c5": None}
CODINGS_PER_CODE = 3


@dataclass
class Spec:
    parent: str | None
    status: str = "active"
    merged_into: str | None = None
    renamed_from: list[str] = field(default_factory=list)


class Model:
    """The codebook as the researcher edits it, and where each original code's codings should now be."""

    def __init__(self) -> None:
        self.codes = {cid: Spec(parent) for cid, parent in START.items()}
        self.row_of = {cid: cid for cid in START}  # original id -> current id of the same database row
        self.renames = 0

    def active(self) -> list[str]:
        return [cid for cid, spec in self.codes.items() if spec.status == "active"]

    def _replace_refs(self, old: str, new: str) -> None:
        for spec in self.codes.values():
            if spec.parent == old:
                spec.parent = new
            if spec.merged_into == old:
                spec.merged_into = new

    def rename(self, cid: str) -> None:
        self.renames += 1
        new = f"{cid.split('-r')[0]}-r{self.renames}"
        spec = self.codes.pop(cid)
        spec.renamed_from = [cid]
        self.codes[new] = spec
        self._replace_refs(cid, new)
        self.row_of = {orig: (new if cur == cid else cur) for orig, cur in self.row_of.items()}

    def merge(self, cid: str, target: str) -> None:
        spec = self.codes[cid]
        spec.status, spec.merged_into = "merged", target
        for other in self.codes.values():  # a merge target must be a live code
            if other.merged_into == cid:
                other.merged_into = target

    def retire(self, cid: str) -> None:
        self.codes[cid].status = "retired"

    def expected_code(self, original: str) -> str:
        current = self.row_of[original]
        while self.codes[current].merged_into is not None:
            current = self.codes[current].merged_into  # type: ignore[assignment]
        return current

    def to_yaml(self) -> str:
        codes = []
        for cid, spec in self.codes.items():
            entry: dict = {"id": cid, "name": cid.upper()}
            if spec.parent:
                entry["parent"] = spec.parent
            if spec.renamed_from:
                entry["renamed_from"] = spec.renamed_from
            if spec.merged_into:
                entry["merged_into"] = spec.merged_into
            if spec.status == "retired":
                entry["retired"] = True
            codes.append(entry)
        return yaml.safe_dump({"codebook": "prop", "codes": codes}, sort_keys=False)


operations = st.lists(st.tuples(st.sampled_from(["rename", "merge", "retire"]), st.integers(0, 20),
                                st.integers(0, 20)), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_renames_merges_and_retirements_keep_every_coding(ops: list[tuple[str, int, int]]) -> None:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    model = Model()
    try:
        with transaction(engine) as s:
            sync_codebook(s, parse_codebook(model.to_yaml()), model.to_yaml(), actor="prop")
        with transaction(engine) as s:
            doc = Document(title="d", text="x" * 1000, sha256="0" * 64)
            coder = Coder(name="ana")
            s.add_all([doc, coder])
            codes = {c.slug: c for c in s.scalars(select(Code))}
            for n, cid in enumerate(sorted(START)):
                for k in range(CODINGS_PER_CODE):
                    start = 10 * (n * CODINGS_PER_CODE + k)
                    s.add(Coding(document=doc, code=codes[cid], coder=coder, start=start, end=start + 5,
                                 quote="xxxxx", memo=cid))
        for op, i, j in ops:
            active = model.active()
            if not active:
                break
            cid = active[i % len(active)]
            if op == "rename":
                model.rename(cid)
            elif op == "retire":
                if any(spec.merged_into == cid for spec in model.codes.values()):
                    continue  # the validator refuses a retired merge target, and so would a researcher
                model.retire(cid)
            else:
                targets = [t for t in active if t != cid]
                if not targets:
                    continue
                model.merge(cid, targets[j % len(targets)])
            text = model.to_yaml()
            with transaction(engine) as s:
                sync_codebook(s, parse_codebook(text), text, actor="prop")
        with transaction(engine) as s:
            rows = s.execute(select(Coding.memo, Code.slug).join(Coding.code)).all()
        assert len(rows) == len(START) * CODINGS_PER_CODE
        for original, slug in rows:
            assert slug == model.expected_code(original), (ops, original, slug)
    finally:
        engine.dispose()

"""Read-only views of the project's codebook: the code tree with its coding counts, and the version history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gripcode.codebook.sync import database_states
from gripcode.db.models import Code, CodebookVersion, Coder, Coding

TREE_COLUMNS = ("id", "name", "parent", "depth", "status", "color", "codings", "suggested", "definition")


def code_tree(session: Session, *, include_inactive: bool = True, coder: str | None = None,
              details: bool = False) -> list[dict[str, Any]]:
    """Codes in codebook order with their depth; ``codings`` counts those that count in analyses (accepted),
    ``suggested`` the suggestions still waiting for review: of every coder, or only of ``coder`` (a blind
    round). With ``details`` each row also has the code's ``include``, ``exclude``, ``examples`` and ``position``."""
    count_query = (select(Coding.code_id, func.sum(case((Coding.status == "accepted", 1), else_=0)),
                          func.sum(case((Coding.status == "suggested", 1), else_=0))).group_by(Coding.code_id))
    if coder is not None:
        count_query = count_query.join(Coder, Coding.coder_id == Coder.id).where(Coder.name == coder)
    counts = {slug: (accepted, suggested) for slug, accepted, suggested in session.execute(count_query).tuples()}
    states = database_states(session)
    ids = dict(session.execute(select(Code.slug, Code.id)).tuples().all())
    children: dict[str | None, list[str]] = {}
    for slug, state in sorted(states.items(), key=lambda item: item[1].position):
        parent = state.parent if state.parent in states else None
        children.setdefault(parent, []).append(slug)
    rows: list[dict[str, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        for slug in children.get(parent, []):
            state = states[slug]
            if include_inactive or state.status == "active":
                accepted, suggested = counts.get(ids[slug], (0, 0))
                rows.append({"id": slug, "name": state.name, "parent": state.parent, "depth": depth,
                             "status": state.status if state.status != "merged" else f"merged into {state.merged_into}",
                             "color": state.color, "codings": int(accepted or 0), "suggested": int(suggested or 0),
                             "definition": state.definition})
                if details:
                    rows[-1].update(include=state.include, exclude=state.exclude, examples=state.examples,
                                    position=state.position)
            walk(slug, depth + 1)

    walk(None, 0)
    return rows


def render_tree(rows: list[dict[str, Any]]) -> str:
    """An indented outline: ``id  Name  [codings]``, with inactive codes marked."""
    if not rows:
        return "No codes yet: gripcode codebook sync FILE"
    width = max(2 * r["depth"] + len(r["id"]) for r in rows)
    lines = []
    for r in rows:
        label = "  " * r["depth"] + r["id"]
        status = "" if r["status"] == "active" else f"  ({r['status']})"
        counts = f"{r['codings']:>5}" + (f" +{r['suggested']} suggested" if r["suggested"] else "")
        lines.append(f"{label.ljust(width)}  {counts}  {r['name']}{status}")
    return "\n".join(lines)


def render_markdown(rows: list[dict[str, Any]], title: str) -> str:
    """A nested Markdown list with definitions, for a wiki page or a project README."""
    lines = [f"# {title}", ""]
    for r in rows:
        status = "" if r["status"] == "active" else f" _({r['status']})_"
        definition = f": {' '.join(r['definition'].split())}" if r["definition"] else ""
        lines.append(f"{'  ' * r['depth']}- **{r['name']}** (`{r['id']}`, {r['codings']} codings){status}{definition}")
    return "\n".join(lines) + "\n"


def version_history(session: Session) -> list[dict[str, Any]]:
    versions = session.scalars(select(CodebookVersion).order_by(CodebookVersion.id)).all()
    return [{"version": v.id, "synced_at": v.synced_at.replace(microsecond=0), "by": v.synced_by, "name": v.name,
             "hash": v.content_hash[:12],
             "changes": ", ".join(f"{n} {kind}" for kind, n in (v.summary or {}).items()) or "none"}
            for v in versions]

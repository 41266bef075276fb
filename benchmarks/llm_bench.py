"""Language-model coding speed against a local stub that answers at once: what `llm code` adds per unit.

    python benchmarks/llm_bench.py [--units 10000] [--concurrency 8] [--repeat 3] [--clients]

Builds a SQLite project with ``--units`` distinct paragraphs (100 per document) and a two-code codebook, starts
the test suite's chat-completions stub (tests/llm_stub.py) on the loopback address answering every request at
once with a structured answer, and times, in rounds:

- the bare baseline: the same number of chat requests, with the same prompt and texts, made directly with the
  same client (gripcode's ChatClient over the ``openai`` package) and the same concurrency, answers discarded;
- `llm_code` in this process, end to end: planning (reading the units, hashing them, asking the cache), the
  requests, reading each answer strictly, and storing answers, suggestions, per-unit outcomes and the cache in
  a transaction per batch; each round on a fresh copy of the project, so nothing comes from the cache;
- a second `llm_code` on the same copy: everything from the cache, no request.

Overhead per unit = (llm_code - bare) / units. ``--clients`` also times 2,000 sequential requests with the
``openai`` client, plain httpx and the standard library's urllib against the stub, for the per-request cost of
the client itself.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from llm_stub import StubServer  # noqa: E402

CODEBOOK = """\
codebook: bench
codes:
  - id: export-restrictions
    name: Export restrictions
    definition: Limits on shipping rare earths abroad.
    include: Quotas, bans and licences for exports.
  - id: price-control
    name: Price control
    definition: A state that sets or steers prices.
"""

SENTENCES = ["The ministry cut the export quotas for separated oxides", "Prices of dysprosium rose again",
             "The cooperative met in the village hall", "Officials toured the tailings dam near the river"]


def build(folder: Path, units: int) -> Path:
    db = folder / "bench.db"
    program = Path(sys.executable).parent / "gripcode"
    subprocess.run([str(program), "--db", str(db), "init"], check=True, capture_output=True)
    (folder / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    subprocess.run([str(program), "--db", str(db), "codebook", "sync", str(folder / "cb.yaml")], check=True,
                   capture_output=True)
    docs = folder / "docs"
    docs.mkdir()
    for d in range(units // 100):
        paragraphs = [f"{SENTENCES[(d + p) % 4]} in document {d}, paragraph {p}." for p in range(100)]
        (docs / f"d{d:05d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    subprocess.run([str(program), "--db", str(db), "import", *sorted(map(str, docs.iterdir()))], check=True,
                   capture_output=True)
    return db


def bare(url: str, db: Path, concurrency: int) -> tuple[float, int]:
    from gripcode.db.engine import make_engine, transaction
    from gripcode.nlp.llm.client import ChatClient, ClientSettings
    from gripcode.nlp.llm.endpoint import parse_endpoint
    from gripcode.nlp.llm.runs import plan_run

    engine = make_engine(f"sqlite:///{db}")
    with transaction(engine, write=False) as session:
        plan = plan_run(session, model="stub", unit="paragraph", parameters={"temperature": 0.0, "max_tokens": 1024,
                                                                             "seed": 0},
                        structured=True, codes=None, case=None, kind=None, doc=None)
    engine.dispose()
    texts = [u.text for u in plan.units]
    client = ChatClient(parse_endpoint(url), "no-key", ClientSettings("stub"), concurrency=concurrency)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda text: client.ask(plan.prompt.messages("paragraph", text),
                                              parameters=plan.prompt.parameters,
                                              response_format=plan.prompt.response_format()), texts))
    seconds = time.perf_counter() - started
    client.close()
    return seconds, len(texts)


def gripcode_run(url: str, db: Path, concurrency: int) -> tuple[float, object]:
    from gripcode.db.engine import make_engine
    from gripcode.nlp.llm.coder import LlmSettings, llm_code

    engine = make_engine(f"sqlite:///{db}")
    started = time.perf_counter()
    report = llm_code(engine, LlmSettings(model="stub", endpoint=url, concurrency=concurrency), actor="bench")
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, report


def clients(url: str, n: int = 2000) -> dict[str, float]:
    import httpx
    import openai

    body = {"model": "stub", "messages": [{"role": "user", "content": 'x\n"""\nPrices rose.\n"""'}]}
    out = {}
    client = openai.OpenAI(base_url=url, api_key="no-key")
    started = time.perf_counter()
    for _ in range(n):
        client.chat.completions.create(**body)
    out["openai"] = (time.perf_counter() - started) / n * 1000
    with httpx.Client() as plain:
        started = time.perf_counter()
        for _ in range(n):
            json.loads(plain.post(f"{url}/chat/completions", json=body).content)
        out["httpx"] = (time.perf_counter() - started) / n * 1000
    data = json.dumps(body).encode()
    started = time.perf_counter()
    for _ in range(n):
        request = urllib.request.Request(f"{url}/chat/completions", data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as answer:
            json.loads(answer.read())
    out["urllib (a new connection per request)"] = (time.perf_counter() - started) / n * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clients", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, StubServer(instant=True) as server:
        folder = Path(tmp)
        started = time.perf_counter()
        db = build(folder, args.units)
        print(f"project with {args.units} paragraphs built in {time.perf_counter() - started:.1f} s")
        rounds = []
        for r in range(args.repeat):
            copy = folder / f"round{r}.db"
            shutil.copy(db, copy)
            bare_s, n = bare(server.url, copy, args.concurrency)
            run_s, report = gripcode_run(server.url, copy, args.concurrency)
            cached_s, cached = gripcode_run(server.url, copy, args.concurrency)
            assert report.sent == n and cached.sent == 0, (report, cached)  # type: ignore[attr-defined]
            overhead = (run_s - bare_s) / n * 1000
            rounds.append((bare_s, run_s, cached_s, overhead))
            print(f"round {r + 1}: bare {bare_s:.2f} s ({n / bare_s:,.0f} requests/s); llm code {run_s:.2f} s "
                  f"({n / run_s:,.0f} units/s, {report.suggestions} suggestions); "  # type: ignore[attr-defined]
                  f"overhead {overhead:.3f} ms/unit; ratio {bare_s / run_s:.2f}; all cached {cached_s:.2f} s")
        med = [statistics.median(x) for x in zip(*rounds)]
        print(f"median: bare {med[0]:.2f} s, llm code {med[1]:.2f} s ({args.units / med[1]:,.0f} units/s), "
              f"overhead {med[3]:.3f} ms/unit, bare/llm code {med[0] / med[1]:.2f}, second run from the cache "
              f"{med[2]:.2f} s")
        if args.clients:
            for name, ms in clients(server.url).items():
                print(f"client {name}: {ms:.3f} ms/request (sequential, stub answering at once)")


if __name__ == "__main__":
    main()

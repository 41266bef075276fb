"""`llm code`, `llm runs`, `validate` and `review accept --validated` through the installed program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROGRAM
from llm_stub import StubServer
from test_llm_coder import CODEBOOK, TEXT


def gripcode(url: str, *args: str, coder: str = "ana") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIPCODE_LLM", "OPENAI"))}
    return subprocess.run([str(PROGRAM), "--db", url, "--coder", coder, *args], capture_output=True, text=True,
                          env=env, timeout=120)


def ok(url: str, *args: str, coder: str = "ana") -> str:
    result = gripcode(url, *args, coder=coder)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def project(db_url: str, tmp_path: Path) -> str:
    ok(db_url, "init")
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    ok(db_url, "codebook", "sync", str(tmp_path / "cb.yaml"))
    (tmp_path / "baotou.txt").write_text(TEXT, encoding="utf-8")
    ok(db_url, "import", str(tmp_path / "baotou.txt"), "--kind", "media")
    return db_url


def test_llm_code_runs_and_validation_through_the_program(project: str) -> None:
    with StubServer() as server:
        dry = ok(project, "llm", "code", "--model", "stub", "--endpoint", server.url, "--dry-run")
        assert server.requests == []
        out = ok(project, "llm", "code", "--model", "stub", "--endpoint", server.url)
        again = ok(project, "llm", "code", "--model", "stub", "--endpoint", server.url)
    coder = out.split(":", 1)[0].removeprefix("Coder ")
    assert coder.startswith("llm@stub@")
    assert f"Coder {coder}: model stub at {server.url} (this machine), paragraph units\n" in dry
    assert "4 unit(s) in 1 document(s): 4 to ask, 0 answered from the cache\nDry run: would send 4 request(s)" in dry
    assert "Run 1 finished in " in out and ": 4 asked, 3 answer(s) read, 1 malformed, 0 without an answer" in out
    assert f"Added 2 suggestion(s) as {coder};" in out and "       1  export-restrictions" in out
    assert "4 unit(s) in 1 document(s): 0 to ask, 4 answered from the cache" in again
    assert f"Added 0 suggestion(s) as {coder};" in again
    listing = ok(project, "llm", "runs", "--format", "csv").splitlines()
    assert listing[0] == ("run,coder,model,endpoint,unit,status,started,finished,units,sent,cached,malformed,"
                          "failed,suggestions,temperature,seed,prompt_hash,codebook_version")
    assert listing[1].startswith(f"1,{coder},stub,{server.url},paragraph,finished,")
    assert listing[1].endswith(f",4,4,0,1,0,2,0,0,{coder[-12:]},1")
    detail = ok(project, "llm", "runs", "1")
    assert "Code id: export-restrictions" in detail and "malformed answers (1):" in detail
    assert "paragraph:4  the answer is not JSON: Expecting value" in detail

    # People code the same paragraphs; the machine is validated against them.
    for person, units in (("ana", ("1", "2")), ("ben", ("1", "3"))):
        for code, unit in zip(("export-restrictions", "price-control"), units):
            ok(project, "code", "add", "1", code, "--unit", f"paragraph:{unit}", coder=person)
    table = ok(project, "validate", coder, "--against", "ana,ben", "--format", "csv").splitlines()
    header = table.index(",".join(f'"{c}"' for c in (
        "code", "units", "ties", "machine_yes", "reference_yes", "kappa", "alpha", "alpha_low", "alpha_high", "ac1",
        "precision", "recall", "f1", "humans_alpha", "humans_alpha_low", "humans_alpha_high", "humans_kappa",
        "humans_ac1")))
    # Three paragraphs with an answer (the malformed one is no decision); for price-control ana and ben split on
    # two of them (ties), and agree on the third, where the machine agrees too.
    assert table[header + 1].startswith('"export-restrictions",3,0,1,1,1.0,1.0,')
    assert table[header + 2].startswith('"price-control",1,2,0,0,"","","","",1.0,')
    assert any(line.startswith(f"# Note: machine coder {coder}: a language model; run 1 ") for line in table)
    accepted = ok(project, "review", "accept", "--coder", coder, "--validated", "--min-alpha", "0.8")
    assert accepted.startswith(f"Validation 1 of {coder} (")
    assert "the lower bound of alpha's interval reaches 0.8 for 0 of 2 code(s)" in accepted
    assert accepted.endswith("Accepted 0 suggestion(s) as ana\n")
    loose = ok(project, "review", "accept", "--coder", coder, "--validated", "--min-alpha", "-1")
    assert "reaches -1 for 1 of 2 code(s)" in loose and loose.endswith("Accepted 1 suggestion(s) as ana\n")
    assert f"  {'export-restrictions':<30} {'0.000':>7}  accepted\n" in loose
    wrong = gripcode(project, "review", "accept", "--coder", "ben", "--code", "price-control")
    assert wrong.returncode == 1 and wrong.stderr.startswith("Error: ben is a person coder, not a machine coder")
    # The analysis tables name the machine coder whose accepted suggestion they count.
    compare = ok(project, "compare", "--by", "kind", "--format", "csv")
    assert f"# Note: machine coder {coder}: a language model; run 1 " in compare


def test_validate_sample_lists_units_blind_and_later_validations_use_it(project: str) -> None:
    with StubServer() as server:
        coder = ok(project, "llm", "code", "--model", "stub", "--endpoint", server.url).split(":", 1)[0][6:]
    listing = ok(project, "validate", coder, "--against", "ana,ben", "--sample", "2", "--format", "csv")
    rows = [line for line in listing.splitlines() if not line.startswith("#")]
    assert rows[0] == '"unit","document","title","case","kind","text"' and len(rows) == 3
    assert "export" not in rows[0] and "# Note: recorded as sample 1;" in listing
    assert "in the workbench, `gripcode --coder NAME workbench --sample 1`" in listing
    assert "# Note: stratum (none) / media / machine: a code: 1 of 2" in listing
    ok(project, "coder", "add", "ana")
    ok(project, "coder", "add", "ben")
    missing = gripcode(project, "validate", coder, "--against", "ana,ben")
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: ana has coded none of the 2 units of sample 1 yet")
    first = rows[1].split(",")[0].strip('"')
    for person in ("ana", "ben"):
        ok(project, "code", "add", "1", "export-restrictions", "--unit", first, coder=person)
    table = ok(project, "validate", coder, "--against", "ana,ben", "--format", "csv")
    assert "# Note: on the 2 unit(s) of blind sample 1 (drawn " in table


def test_refusals_of_llm_code(project: str) -> None:
    remote = gripcode(project, "llm", "code", "--model", "m", "--endpoint", "https://llm.example.invalid/v1")
    assert remote.returncode == 1 and "is not on this machine: 4 unit(s) from 1 document(s)" in remote.stderr
    assert "add --allow-remote if this text may be sent there" in remote.stderr
    no_model = gripcode(project, "llm", "code")
    assert no_model.returncode == 1 and "name the model with --model" in no_model.stderr
    person = gripcode(project, "validate", "ana", "--against", "ben")
    assert person.returncode == 1 and person.stderr.startswith("Error: no coder 'ana'")


def test_help_does_not_load_the_language_model_client() -> None:
    code = ("import sys\nfrom gripcode.cli.main import cli\n"
            "try:\n    cli.main(['llm', 'code', '--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "cli.main(['--help'], standalone_mode=False)\n"
            "print('openai' in sys.modules, 'gripcode.nlp.llm.client' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("False False"), out.stderr
    from gripcode.cli import llm
    from gripcode.nlp.llm import endpoint

    assert llm.DEFAULT_ENDPOINT == endpoint.DEFAULT_ENDPOINT


@pytest.mark.skipif(not os.environ.get("GRIPCODE_TEST_LLM_URL"), reason="set GRIPCODE_TEST_LLM_URL (and "
                    "GRIPCODE_TEST_LLM_MODEL) to code the sample corpus with a real model server")
def test_a_real_server_codes_the_sample_corpus(db_url: str, corpus_dir: Path) -> None:
    url, model = os.environ["GRIPCODE_TEST_LLM_URL"], os.environ.get("GRIPCODE_TEST_LLM_MODEL", "qwen2.5:7b")
    ok(db_url, "init")
    ok(db_url, "codebook", "sync", str(corpus_dir.parent / "codebooks" / "grip-arm.yaml"))
    ok(db_url, "import", "--manifest", str(corpus_dir / "manifest.csv"), "--create-cases")
    args = ["llm", "code", "--model", model, "--endpoint", url, "--case", "Brazil", "--allow-remote"]
    out = ok(db_url, *args)
    assert " finished in " in out and "0 without an answer" in out
    assert "0 to ask" in ok(db_url, *args)

"""`gripcode pseudonymise` through the installed program, as a researcher runs it in a shell."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import REPO, reset_postgres
from test_program import fails, ok, run

NAMED = REPO / "corpus" / "named"
PASSPHRASE = {"GRIPCODE_KEY_PASSPHRASE": "correct horse battery staple"}


def _source_url(tmp_path: Path) -> str:
    url = os.environ.get("GRIPCODE_TEST_DB", "")
    if url.startswith("postgresql"):
        reset_postgres(url)
        return url
    return str(tmp_path / "project.db")


def test_the_whole_workflow_through_the_program(tmp_path: Path) -> None:
    db = _source_url(tmp_path)
    key = str(tmp_path / "project.key")
    ok("--db", db, "init", cwd=tmp_path)
    ok("--db", db, "import", "--manifest", str(NAMED / "manifest.csv"), "--create-cases", cwd=tmp_path)
    ok("--db", db, "codebook", "sync", str(REPO / "codebooks" / "grip-arm.yaml"), cwd=tmp_path)
    ok("--db", db, "code", "import", str(NAMED / "codings.csv"), cwd=tmp_path)

    # The form: the command itself with --key proposes.
    proposed = ok("--db", db, "pseudonymise", "--kind", "interview", "--key", key, "--names",
                  str(NAMED / "names.txt"), "--emails", "--phones", "--urls",
                  "--pattern", "person=[Informant {n}]", env=PASSPHRASE, cwd=tmp_path)
    assert "wait for review" in proposed.stdout and "Nothing is replaced" in proposed.stdout
    listed = json.loads(ok("pseudonymise", "list", "--key", key, "--format", "json", env=PASSPHRASE).stdout)
    ids = {row["value"]: row["id"] for row in listed}
    assert ids.keys() >= {"Margaret Ellison", "Ержан Касымов", "王建国", "+7 701 555 12 34"}
    assert all(row["status"] == "proposed" for row in listed)
    assert "[Informant 1]" in {row["pseudonym"] for row in listed}

    assert "Accepted 2 proposal(s)" in ok("pseudonymise", "accept", str(ids["Margaret Ellison"]),
                                          str(ids["Ержан Касымов"]), "--key", key, env=PASSPHRASE).stdout
    ok("pseudonymise", "accept", "--kind", "phone", "--key", key, env=PASSPHRASE)
    ok("pseudonymise", "edit", str(ids["Ольга Петренко"]), "--pseudonym", "[Official, Ministry A]", "--key", key,
       env=PASSPHRASE)
    # A value read from standard input stays out of the shell's history.
    added = ok("pseudonymise", "add", "--from-file", "-", "--key", key, env=PASSPHRASE, input="Касымов\n").stdout
    new_id = added.split()[2]
    ok("pseudonymise", "edit", new_id, "--same-as", str(ids["Ержан Касымов"]), "--key", key, env=PASSPHRASE)
    # The rest through a CSV, as in a spreadsheet: accept every waiting name, then read it back.
    csv_file = tmp_path / "review.csv"
    ok("pseudonymise", "export", str(csv_file), "--key", key, env=PASSPHRASE)
    assert csv_file.stat().st_mode & 0o777 == 0o600
    csv_file.write_text(csv_file.read_text(encoding="utf-8").replace(",proposed,", ",accepted,"), encoding="utf-8")
    assert "changed" in ok("pseudonymise", "import", str(csv_file), "--key", key, env=PASSPHRASE).stdout
    ok("pseudonymise", "add", "Ellison", "--key", key, env=PASSPHRASE)
    ok("pseudonymise", "edit", str(len(listed) + 2), "--same-as", str(ids["Margaret Ellison"]), "--key", key,
       env=PASSPHRASE)
    assert "rejected 0 proposal(s)" in ok("pseudonymise", "reject", "--all", "--key", key,
                                          env=PASSPHRASE).stdout.lower()

    new = str(tmp_path / "pseudonymised.db")
    applied = ok("--db", db, "pseudonymise", "apply", "--key", key, "--to", new, env=PASSPHRASE, cwd=tmp_path)
    assert "Wrote the pseudonymised project" in applied.stdout
    assert "all good" in ok("--db", new, "check").stdout
    shown = ok("--db", new, "show", "Интервью с заместителем директора комбината").stdout
    assert "[Informant" in shown and "[Official, Ministry A]" in shown and "Касымов" not in shown
    for args in (("agreement", "--coders", "ana,ben", "--unit", "paragraph", "--format", "json"),
                 ("compare", "--by", "case", "--measure", "documents", "--measure", "codings", "--format", "csv")):
        before = ok("--db", db, *args).stdout
        after = ok("--db", new, *args).stdout
        strip = [line for line in before.splitlines() if "database" not in line.lower()
                 and "generated" not in line.lower()]
        assert strip == [line for line in after.splitlines() if "database" not in line.lower()
                         and "generated" not in line.lower()]

    restored = str(tmp_path / "restored.db")
    # The form: --reverse.
    ok("--db", new, "pseudonymise", "--reverse", "--key", key, "--to", restored, env=PASSPHRASE)
    assert "all good" in ok("--db", restored, "check").stdout
    assert "Ержан Касымов" in ok("--db", restored, "show", "Интервью с заместителем директора комбината").stdout

    # Mistakes: Error: and exit 1, nothing written.
    assert "wrong passphrase" in fails("--db", new, "pseudonymise", "reverse", "--key", key, "--to",
                                       str(tmp_path / "x.db"), env={"GRIPCODE_KEY_PASSPHRASE": "not the one!"})
    damaged = tmp_path / "damaged.key"
    damaged.write_bytes(Path(key).read_bytes()[:-40] + b"\n")
    assert "damaged" in fails("pseudonymise", "list", "--key", str(damaged), env=PASSPHRASE)
    assert "already exists" in fails("--db", db, "pseudonymise", "apply", "--key", key, "--to", new, env=PASSPHRASE)
    assert "no passphrase" in fails("pseudonymise", "list", "--key", key, input="")
    assert "no proposal 999" in fails("pseudonymise", "edit", "999", "--pseudonym", "x", "--key", key, env=PASSPHRASE)
    assert not (tmp_path / "x.db").exists()
    assert "--reverse needs --to" in fails("--db", new, "pseudonymise", "--reverse", "--key", key, env=PASSPHRASE)
    assert "after the subcommand" in fails("pseudonymise", "--key", key, "list", "--key", key, env=PASSPHRASE)
    assert "either a VALUE or --from-file" in fails("pseudonymise", "add", "--key", key, env=PASSPHRASE)
    helped = ok("pseudonymise", "--help").stdout
    assert "--reverse" in helped and "Without a subcommand" in helped
    assert "Usage:" in ok("pseudonymise").stdout


def test_the_passphrase_can_be_typed_when_asked(tmp_path: Path) -> None:
    db = str(tmp_path / "project.db")
    key = str(tmp_path / "k.key")
    ok("--db", db, "init")
    ok("--db", db, "import", "--manifest", str(NAMED / "manifest.csv"), "--create-cases")
    typed = "a long passphrase\na long passphrase\n"
    ok("--db", db, "pseudonymise", "propose", "--key", key, input=typed)
    listed = run("pseudonymise", "list", "--key", key, "--format", "csv", input="a long passphrase\n")
    assert listed.returncode == 0 and "Margaret Ellison" in listed.stdout
    assert "a long passphrase" not in listed.stdout

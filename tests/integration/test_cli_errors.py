"""Bad input never crashes: one clear line per problem, non-zero exit, nothing under out/."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import EXIT_DECISION_REQUIRED, EXIT_ERROR, main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "handwritten-scenario"


@pytest.fixture
def ws(tmp_path) -> Path:
    dst = tmp_path / "round"
    shutil.copytree(FIXTURE, dst)
    return dst


def replace_in(path: Path, old: str, new: str, encoding: str = "utf-8") -> None:
    text = path.read_text(encoding=encoding)
    assert old in text
    path.write_text(text.replace(old, new), encoding=encoding)


def test_several_problems_in_several_files_are_all_reported(ws, capsys):
    replace_in(ws / "submissions.csv", "2026-07-03 10:00", "next tuesday", "utf-8-sig")
    replace_in(ws / "scores" / "E02.csv", "E02,HW-05,maturity,", "E02,HW-05,maturityy,")
    replace_in(ws / "scores" / "E03.csv", "E03,HW-07,benefit,", "E03,HW-99,benefit,")
    code = main(["run", str(ws), "--approve-as", "x"])
    err = capsys.readouterr().err
    assert code == EXIT_ERROR
    lines = [l for l in err.splitlines() if l.startswith("error: ")]
    assert any("submissions.csv, row 3" in l and "submitted_at" in l for l in lines), err
    assert any("scores/E02.csv" in l and "maturityy" in l for l in lines), err
    assert any("scores/E03.csv" in l and "HW-99" in l for l in lines), err
    assert "Traceback" not in err
    assert not (ws / "out").exists()


def test_year_outside_the_policy_is_refused(ws, capsys):
    replace_in(ws / "round.toml", "year = 2026", "year = 2029")
    assert main(["check", str(ws)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "2029" in err and "2026..2028" in err
    assert not (ws / "out").exists()


def test_unknown_programme_and_unknown_key_are_named(ws, capsys):
    replace_in(ws / "round.toml", 'programme = "scenario"', 'programme = "scenery"\ncolour = "red"')
    assert main(["check", str(ws)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "scenery" in err or "colour" in err


def test_misspelled_override_lists_valid_names(ws, capsys):
    with (ws / "round.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[overrides.scoring]\naggregation = "trimmed-mean"\n')
    assert main(["check", str(ws)]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert "trimmed-mean" in err and "trimmed_mean" in err and "median" in err


def test_not_a_workspace(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == EXIT_ERROR
    assert "round.toml" in capsys.readouterr().err


def test_tie_across_the_cut_off_stops_until_decided(ws, capsys):
    # make HW-10 and HW-11 identical in every score and submitted at the same minute
    for e in range(1, 6):
        path = ws / "scores" / f"E0{e}.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        hw10 = {l.split(",")[2]: l.split(",")[3] for l in lines if ",HW-10," in l}
        path.write_text("\n".join(
            f"E0{e},HW-11,{l.split(',')[2]},{hw10[l.split(',')[2]]}" if ",HW-11," in l else l for l in lines
        ) + "\n", encoding="utf-8")
    replace_in(ws / "submissions.csv", "2026-07-20 17:00", "2026-07-18 09:50", "utf-8-sig")
    code = main(["check", str(ws)])
    err = capsys.readouterr().err
    assert code == EXIT_DECISION_REQUIRED
    assert "HW-10" in err and "HW-11" in err and "rounds decide" in err
    assert not (ws / "out").exists()

    assert main(["decide", str(ws), "--order", "HW-10", "--as", "x", "--reason", "r"]) == EXIT_ERROR
    assert main(["decide", str(ws), "--order", "HW-11,HW-09", "--as", "x", "--reason", "r"]) == EXIT_ERROR
    capsys.readouterr()
    assert main(["decide", str(ws), "--order", "HW-11,HW-10", "--as", "评审组长", "--reason", "现场答辩得分较高"]) == 0
    assert main(["check", str(ws)]) == 0
    from flows.stages import prepare
    from flows.workspace import Workspace

    ranking = prepare(Workspace.at(ws)).result.ranking.set_index("submission_id")
    assert ranking.at["HW-11", "outcome"] == "selected" and ranking.at["HW-10", "outcome"] == "reserve"
    assert "评审组长" in ranking.at["HW-10", "tie_note"]


def test_cli_entry_point_is_installed_and_prints_help():
    exe = Path(sys.executable).parent / "rounds"
    res = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "run" in res.stdout and "approve" in res.stdout


def test_thousands_of_problems_are_capped_per_file(ws, capsys):
    path = ws / "scores" / "E01.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0]] + [l.rsplit(",", 1)[0] + ",999" for l in lines[1:]]) + "\n", encoding="utf-8")
    assert main(["check", str(ws)]) == EXIT_ERROR
    err = capsys.readouterr().err.splitlines()
    assert sum("scores/E01.csv" in l for l in err) == 26  # 25 shown + one count line
    assert any("more problems not shown" in l for l in err)
    assert err[-1].startswith("75 problem(s)")


def test_output_piped_into_a_reader_that_leaves_is_no_traceback(ws):
    exe = Path(sys.executable).parent / "rounds"
    proc = subprocess.Popen([str(exe), "check", str(ws)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before rounds writes its first line
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert proc.returncode == 0

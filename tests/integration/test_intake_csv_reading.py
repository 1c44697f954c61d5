"""CSV files read for speed give the cells a person sees, exactly as before.

Score sheets are parsed into categoricals (`read_table(..., categorical=True)`),
and a file is stripped cell by cell only when a space-like character stands next
to a comma, a quote, a line end or an edge of the file (flows/intake_csv.py).
Real files in tmp_path, in UTF-8, UTF-8 with BOM and GB18030.
"""
from __future__ import annotations

import csv
import io
import random

import pandas as pd
import pytest

from flows.intake import load_workspace, read_table
from flows.intake_csv import _may_have_padded_cells
from scoring import columns as C
from tests.unit import builders as B


def write(path, rows, *, encoding="utf-8", bom=False, quoting=csv.QUOTE_MINIMAL, newline="\n"):
    buf = io.StringIO()
    csv.writer(buf, quoting=quoting, lineterminator=newline).writerows(rows)
    path.write_bytes((("\ufeff" if bom else "") + buf.getvalue()).encode(encoding))
    return path


def cells(frame: pd.DataFrame) -> list[list[str]]:
    return frame.drop(columns=[C.SOURCE_FILE, C.SOURCE_ROW]).astype(object).values.tolist()


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("gb18030", False)])
def test_spaces_inside_values_are_kept_and_padding_is_stripped(tmp_path, encoding, bom):
    inside = write(tmp_path / "a.csv", [["submission_id", "submitted_at", "title"],
                                        ["S01", "2026-07-01 09:30", "人工智能 应用"]], encoding=encoding, bom=bom)
    assert cells(read_table(inside, "a.csv")) == [["S01", "2026-07-01 09:30", "人工智能 应用"]]
    padded = write(tmp_path / "b.csv", [["submission_id", "title "], [" S01", "应用\u3000"], ["S02\t", "\u3000标题 x"]],
                   encoding=encoding, bom=bom)
    frame = read_table(padded, "b.csv")
    assert list(frame.columns[:2]) == ["submission_id", "title"]
    assert cells(frame) == [["S01", "应用"], ["S02", "标题 x"]]


def test_a_quoted_line_break_at_a_cells_edge_is_stripped_once_the_file_has_spaces(tmp_path):
    """As before: line breaks count as padding only in a file that holds some other space-like character."""
    rows = [["submission_id", "note"], ["S01", "第一行\n"], ["S02", "有 空格"]]
    assert cells(read_table(write(tmp_path / "a.csv", rows), "a.csv")) == [["S01", "第一行"], ["S02", "有 空格"]]
    rows = [["submission_id", "note"], ["S01", "第一行\n"], ["S02", "无空格"]]
    assert cells(read_table(write(tmp_path / "b.csv", rows), "b.csv")) == [["S01", "第一行\n"], ["S02", "无空格"]]


def test_the_padding_check_never_misses_a_padded_cell(tmp_path):
    """On random cells (spaces, ideographic spaces, quotes, commas, line breaks), whenever stripping would change a
    cell the check says so."""
    rng = random.Random(7)
    alphabet = ["a", "中", "1", " ", "\u3000", "\t", ",", '"', "\n", "\xa0", ""]
    for i in range(400):
        rows = [["".join(rng.choices(alphabet, k=rng.randint(0, 4))) for _ in range(3)] for _ in range(4)]
        buf = io.StringIO()
        csv.writer(buf, quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])).writerows(rows)
        text = buf.getvalue()
        raw = text.encode("gb18030" if i % 2 else "utf-8")
        grid = pd.read_csv(io.BytesIO(raw), header=None, dtype=str, keep_default_na=False, na_filter=False,
                           skip_blank_lines=False, encoding="gb18030" if i % 2 else "utf-8")
        padded = any(v != v.strip() for v in grid.to_numpy().ravel())
        spaced = any(ch.strip() == "" and ch not in "\r\n" for ch in text)
        if padded and spaced:
            assert _may_have_padded_cells(text, raw), text


@pytest.mark.parametrize("encoding,bom,newline", [("utf-8", False, "\n"), ("utf-8", True, "\r\n"), ("gb18030", False, "\n")])
def test_categorical_score_sheets_hold_the_same_cells(tmp_path, encoding, bom, newline):
    rows = [["评分说明：每行一个评分项", "", "", ""], ["", "", "", ""], ["expert_id", "submission_id", "criterion", "score"]]
    rows += [[f"E0{e}", f"S{s:02d}", c, f"{(s * e) % 20}.5"] for s in range(30) for e in (1, 2) for c in ("innovation", "效益")]
    rows.insert(10, ["", "", "", ""])
    rows += [[" E01", "S01 ", "innovation", " 3 "]]
    path = write(tmp_path / "all.csv", rows, encoding=encoding, bom=bom, newline=newline)
    plain = read_table(path, "scores/all.csv", header_names=(C.EXPERT_ID,))
    coded = read_table(path, "scores/all.csv", header_names=(C.EXPERT_ID,), categorical=True)
    assert all(isinstance(coded[c].dtype, pd.CategoricalDtype) for c in ("expert_id", "submission_id", "criterion", "score"))
    assert cells(coded) == cells(plain)
    assert coded[C.SOURCE_ROW].tolist() == plain[C.SOURCE_ROW].tolist()
    assert coded.attrs == plain.attrs and coded.attrs["header_row"] == 3
    assert cells(plain)[-1] == ["E01", "S01", "innovation", "3"]


def test_a_workspace_reads_the_same_whatever_the_order_of_its_score_rows(tmp_path):
    """Rows in (application, expert, criterion) order take the fast paths; the same rows shuffled must not differ."""
    prog = B.programme()
    subs = B.submissions(6)
    subs["submitted_at"] = subs["submitted_at"].dt.strftime("%Y-%m-%d %H:%M")
    for folder in ("sorted", "shuffled"):
        ws = tmp_path / folder
        (ws / "scores").mkdir(parents=True)
        subs.to_csv(ws / "submissions.csv", index=False)
        pd.DataFrame({"expert_id": [f"E{e}" for e in range(1, 6)], "name": "专家", "email": "e@example.cn",
                      "organisation": "大学", "org_credit_code": ""}).to_csv(ws / "experts.csv", index=False)
        rows = [(f"E{e}", sid, c.id, str((i * 3 + e) % int(c.max_points)))
                for i, sid in enumerate(subs["submission_id"]) for e in range(1, 6) for c in prog.criteria]
        if folder == "shuffled":
            random.Random(1).shuffle(rows)
        pd.DataFrame(rows, columns=["expert_id", "submission_id", "criterion", "score"]).to_csv(ws / "scores" / "all.csv", index=False)
    a, b = load_workspace(tmp_path / "sorted", prog), load_workspace(tmp_path / "shuffled", prog)
    pd.testing.assert_frame_equal(a.scores.drop(columns=[C.SOURCE_ROW]), b.scores.drop(columns=[C.SOURCE_ROW]), check_exact=True)
    pd.testing.assert_frame_equal(a.submissions, b.submissions, check_exact=True)

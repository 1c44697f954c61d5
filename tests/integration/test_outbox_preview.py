"""Previews come from the stored bytes and change nothing in the outbox."""
from __future__ import annotations

from notices.outbox import PREPARED, Outbox
from notices.preview import html_part, samples_by_outcome, write_previews
from notices.render import render_notice
from notices.samples import sample_context
from smtp_servers import make_items


def test_previews_are_the_stored_bytes_and_leave_states_alone(tmp_path):
    box = Outbox(tmp_path / "outbox.sqlite")
    items = make_items(8)
    box.prepare(items)
    previews = write_previews(box, tmp_path / "preview")
    assert len(previews) == 8 and box.counts()[PREPARED] == 8
    first = previews[0]
    assert first.eml.read_bytes() == items[0].body
    assert "贵单位申报的" in first.html.read_text(encoding="utf-8")
    assert first.subject == render_notice(sample_context("selected")).subject
    assert html_part(items[1].body).startswith("<!DOCTYPE html>")
    box.close()


def test_one_sample_per_outcome(tmp_path):
    box = Outbox(tmp_path / "outbox.sqlite")
    box.prepare(make_items(12))
    samples = samples_by_outcome(box)
    assert sorted(samples) == ["ineligible", "not_selected", "reserve", "selected"]
    row, body = samples["reserve"]
    assert row.submission_id == "SC-00001" and b"Message-ID: " + row.message_id.encode() in body
    box.close()

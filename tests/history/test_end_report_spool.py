"""The end-of-call report spool (vipcall.service.reports.ReportSpool) on real files: a report
Asterisk appended is handed on once its file was taken; a writer that opened the file just
before it was taken still lands its report; files an earlier app left are read at start;
a line cut short is dropped with a warning; nothing is handed on twice."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from vipcall.service.reports import READS_PER_FILE, SPOOL_FILE, ReportSpool, reports_in

LINE = (
    "id=1764.12&status=ANSWER&answered=1500&dialed=2100&user=7&called=%2B358401234567"
    "&caller=%2B358501110001&dial=PJSIP%2F%2B358401234567%40mobile&via="
)


def append(folder: Path, line: str) -> None:
    """As the dialplan's Set(FILE(<folder>/ended,,,al,u)=<line>) does: open, append, close."""
    with (folder / SPOOL_FILE).open("a") as fh:
        fh.write(line + "\n")


def spool_in(folder: Path) -> tuple[ReportSpool, list[dict[str, str]]]:
    noted: list[dict[str, str]] = []
    spool = ReportSpool(folder, lambda report: noted.append(report) is None)
    spool.start()
    return spool, noted


def test_a_report_line_reads_as_the_http_reports_query() -> None:
    reports, rest = reports_in((LINE + "\n").encode() + b"id=2&status=BU")
    assert reports == [
        {
            "id": "1764.12", "status": "ANSWER", "answered": "1500", "dialed": "2100",
            "user": "7", "called": "+358401234567", "caller": "+358501110001",
            "dial": "PJSIP/+358401234567@mobile", "via": "",
        }
    ]  # fmt: skip
    assert rest == b"id=2&status=BU"
    assert reports_in(b"") == ([], b"")


def test_a_report_is_handed_on_at_the_tick_after_its_file_was_taken(tmp_path: Path) -> None:
    spool, noted = spool_in(tmp_path / "spool")
    append(spool.folder, LINE)
    append(spool.folder, "id=2&status=NOANSWER")

    assert spool.tick() == 0  # taken: renamed away from the writers
    assert not (spool.folder / SPOOL_FILE).exists()
    assert spool.tick() == 2
    assert [r["id"] for r in noted] == ["1764.12", "2"]
    for _ in range(READS_PER_FILE):
        spool.tick()
    assert list(spool.folder.iterdir()) == []  # read out and removed
    assert [r["id"] for r in noted] == ["1764.12", "2"]  # never twice


def test_a_writer_that_opened_the_file_before_it_was_taken_still_lands_its_report(
    tmp_path: Path,
) -> None:
    spool, noted = spool_in(tmp_path)
    append(tmp_path, "id=1&status=ANSWER")
    late = (tmp_path / SPOOL_FILE).open("a")  # opened, not written yet
    spool.tick()  # taken
    spool.tick()  # read: id=1
    late.write("id=2&status=BUSY\n")  # lands in the taken file
    late.close()
    append(tmp_path, "id=3&status=CANCEL")  # a new file
    spool.tick()
    spool.tick()
    assert sorted(r["id"] for r in noted) == ["1", "2", "3"]


def test_reports_left_by_an_earlier_app_are_read_at_start(tmp_path: Path) -> None:
    # an earlier app took a file and was killed; Asterisk wrote another while none ran
    (tmp_path / f"{SPOOL_FILE}.1{'.taken'}").write_text("id=1&status=ANSWER\n")
    append(tmp_path, "id=2&status=ANSWER")
    spool, noted = spool_in(tmp_path)
    spool.tick()
    spool.tick()
    assert sorted(r["id"] for r in noted) == ["1", "2"]


def test_a_line_cut_short_is_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool, noted = spool_in(tmp_path)
    (tmp_path / SPOOL_FILE).write_text("id=1&status=ANSWER\nid=2&sta")
    with caplog.at_level(logging.WARNING, "vipcall.reports"):
        for _ in range(READS_PER_FILE + 1):
            spool.tick()
    assert [r["id"] for r in noted] == ["1"]
    assert "cut short" in caplog.text
    assert list(tmp_path.iterdir()) == []


def test_a_report_that_fails_does_not_stop_the_others(tmp_path: Path) -> None:
    taken: list[str] = []

    def call_ended(report: dict[str, str]) -> bool:
        if report.get("id") == "bad":
            raise ValueError("boom")
        taken.append(report.get("id", ""))
        return bool(report.get("id"))

    spool = ReportSpool(tmp_path, call_ended)
    spool.start()
    for line in ("id=1", "id=bad", "status=ANSWER", "id=2"):
        append(tmp_path, line)
    spool.tick()
    assert spool.tick() == 2
    assert taken == ["1", "", "2"]

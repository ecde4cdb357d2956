"""Uploading on the Data page: a bad file explains itself and the data stays; a good one is used;
a file over the upload limit is refused by the uploader with the limit named."""

import math
import re

from .conftest import wait_for


def _sidebar_data(app) -> str:
    """The sidebar's line naming the current data."""
    captions = app.page.locator("[data-testid='stSidebar'] [data-testid='stCaptionContainer']")
    return captions.filter(has_text="Data:").first.inner_text()


def _choose_upload(app) -> None:
    app.key("data_source").get_by_text("Upload a CSV").click()
    app.wait_for_run()


def _upload(app, name: str, content: bytes) -> None:
    app.key("data_upload").locator("input[type='file']").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content}
    )
    app.wait_for_run()


def test_bad_csv_shows_a_readable_error_and_keeps_the_data(app):
    app.open()
    app.nav("Data")
    before = _sidebar_data(app)
    assert "1,000 points" in before
    _choose_upload(app)
    _upload(app, "words.csv", b"value\nhello\nworld\nagain\n")
    error = app.page.locator("[data-testid='stAlertContentError']")
    assert wait_for(lambda: error.count() > 0, 10)
    message = error.first.inner_text()
    assert "number" in message.lower() and "Traceback" not in message
    assert app.exceptions() == []
    assert app.page.get_by_text(re.compile("The data stays")).count() >= 1
    app.nav("Train")
    assert _sidebar_data(app) == before
    app.screenshot("upload-bad-csv")


def test_good_csv_becomes_the_data(app):
    app.open()
    app.nav("Data")
    _choose_upload(app)
    rows = "\n".join(
        f"2024-01-01T00:{i // 60:02d}:{i % 60:02d},{math.sin(i / 9):.4f}" for i in range(300)
    )
    _upload(app, "sensor.csv", b"time,value\r\n" + rows.replace("\n", "\r\n").encode())
    assert wait_for(lambda: "300" in _sidebar_data(app), 10)
    assert app.page.get_by_text(re.compile("sensor.csv")).count() >= 1
    assert app.exceptions() == []


def test_file_over_the_upload_limit_is_refused_with_the_limit(app):
    app.open()
    app.nav("Data")
    before = _sidebar_data(app)
    _choose_upload(app)
    big = b"0.5\n" * (11 * 2**20 // 4)  # 11 MB, over the 10 MB limit
    app.key("data_upload").locator("input[type='file']").set_input_files(
        {"name": "big.csv", "mimeType": "text/csv", "buffer": big}
    )
    assert wait_for(lambda: app.page.get_by_text(re.compile(r"10(\.0)?\s?MB")).count() > 1, 10)
    app.screenshot("upload-too-big")
    assert _sidebar_data(app) == before
    assert app.exceptions() == []

"""The CSV and XLSX a district publishes are in the district's language, activity included."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from bot import exports
from bot.i18n import translations
from bot.labels import ACTIVITY_LABELS
from bot.proposals import ACTIVITIES
from storage.views import RoundView

EXPECTED = {
    "id": {"road": "Jalan dan gang", "water": "Air bersih", "drainage": "Drainase"},
    "en": {"road": "Roads and paths", "water": "Clean water", "drainage": "Drainage"},
}
HEADER = {"id": "Kegiatan", "en": "Activity"}


def bundle() -> exports.Bundle:
    """One proposal of every activity the wizard offers, and one without any yet."""
    round_ = RoundView(
        1, 1, "Tahap 1 2026", 2026, datetime(2026, 5, 1, tzinfo=UTC), None, "Asia/Jakarta"
    )
    rows = [
        exports.Row(
            f"KDL-2026-{i:03}",
            "Plantungan",
            "Blumah",
            f"Usulan {i}",
            code or "",
            "submitted",
            1,
            2,
            10,
            1_000_000,
            {"swadaya": 100_000, "apbd": 900_000},
            0,
            0,
            datetime(2026, 4, 1, 3, 0, tzinfo=UTC),
        )
        for i, code in enumerate((*ACTIVITIES, None), start=1)
    ]
    return exports.Bundle(round_, "Kabupaten Kendal", rows, 0, 0, 0, 0)


def test_every_activity_has_a_label() -> None:
    assert set(ACTIVITY_LABELS) == set(ACTIVITIES)


@pytest.mark.parametrize("locale", ["id", "en"])
def test_csv_and_xlsx_show_activity_labels_in_the_district_language(locale: str) -> None:
    gettext = translations(locale).gettext
    data = bundle()
    labels = {code: gettext(ACTIVITY_LABELS[code]) for code in ACTIVITIES}

    rows = list(csv.DictReader(io.StringIO(exports.to_csv(data, gettext, str).decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(data, gettext, str))).active
    assert sheet is not None
    header, *cells = list(sheet.values)
    column = header.index(HEADER[locale])
    from_xlsx = [r[column] for r in cells]
    from_csv = [r[HEADER[locale]] for r in rows]

    for shown in (from_csv, from_xlsx):
        assert shown == [labels[c] for c in ACTIVITIES] + ["—"]
        assert not set(shown) & set(ACTIVITIES), f"codes shown instead of labels: {shown}"
    for code, label in EXPECTED[locale].items():
        assert labels[code] == label

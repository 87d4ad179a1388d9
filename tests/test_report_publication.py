"""Issue 23 §4(c): overlapping periods could be subtracted (Nov 1-30 shows 6, Nov 1-19 shows 5: Nov 20-30 had 1).
Only a whole calendar month that has ended is published: the console's download and the report command refuse any
other period with a message; the Reports page still shows the month to date, marked not for publication."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

from central.transparency import service
from tests.conftest import run_cli
from tests.console_support import make_central, seed, serve
from tests.test_console_hardening import page_session

PARTIAL = "2025-11-01 to 2025-11-19 is not for publication: only a whole calendar month that has ended is published"


def test_a_download_for_part_of_a_month_is_refused_and_a_whole_past_month_is_not(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    seed(central, site="north")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        page_session(client, "audrey")
        for form in ("html", "csv", "json"):
            refused = client.get(f"/reports/download?site=north&from=2025-11-01&to=2025-11-19&format={form}")
            assert refused.status_code == 400 and PARTIAL in refused.text, refused.text
            assert "overlapping periods subtracted would give back figures each of them hides" in refused.text
        assert client.get("/reports/download?site=north&from=2025-11-01&to=2025-11-30&format=csv").status_code == 200
        assert client.get("/reports/download?site=north&from=2025-11-01&format=csv").status_code == 200
        for days in ("from=2025-10-01&to=2025-12-31", "from=2025-01-01&to=2025-12-31", "from=2025-11-02&to=2025-11-30"):
            assert client.get(f"/reports/download?site=north&{days}&format=csv").status_code == 400, days
        # Without days a download is the last complete month, as the command line's report.
        first, last = service.default_days(datetime.now(UTC).date())
        default = client.get("/reports/download?site=north&format=csv")
        assert default.status_code == 200 and f"{first}-{last}" in default.headers["content-disposition"]
        # The page keeps the month to date (the events just received), marked, with no download offered.
        page = client.get("/reports?site=north")
        assert page.status_code == 200 and "Not for publication" in page.text
        assert "/reports/download" not in page.text and "received" in page.text
        month = client.get("/reports?site=north&from=2025-11-01&to=2025-11-30")
        assert "Not for publication" not in month.text and "/reports/download?" in month.text


def test_the_report_command_refuses_part_of_a_month(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'central.db'}"
    settings = tmp_path / "central.yaml"
    settings.write_text(yaml.safe_dump({"checkpoint_dir": str(tmp_path / "checkpoints")}))
    assert run_cli("central", "migrate", "--db", db).returncode == 0
    common = ("central", "report", "--site", "north", "--db", db, "--settings", str(settings), "--format", "csv")
    refused = run_cli(*common, "--from", "2025-11-01", "--to", "2025-11-19")
    assert refused.returncode == 1 and f"Error: {PARTIAL}" in refused.stderr, refused.stderr
    whole = run_cli(*common, "--from", "2025-11-01", "--to", "2025-11-30")
    assert whole.returncode == 0, whole.stderr

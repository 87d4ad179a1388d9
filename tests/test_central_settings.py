"""Central settings: loading and refusing bad files with one line per problem; policy changes audited;
the catalogue command."""

import pytest

from central import audit
from central.db import transaction
from central.settings import CentralSettings, load_settings
from central.settings_audit import audit_settings
from models.errors import ConfigError
from tests.conftest import run_cli
from tests.review_support import T0, factory_fixture  # noqa: F401  (fixture "factory")


def test_defaults_without_a_file():
    settings = load_settings(None)
    assert settings.claim_ttl_s == 900 and settings.second_review_points == 2
    assert "other" in settings.reject_reasons
    assert settings.evidence_path == settings.data_dir / "evidence"
    assert settings.database_url.startswith("sqlite:///")


def test_a_file_overrides_what_it_names(tmp_path):
    path = tmp_path / "central.yaml"
    path.write_text("claim_ttl_s: 300\nreject_reasons: [blurry, other]\ndata_dir: /srv/cw\n")
    settings = load_settings(path)
    assert (settings.claim_ttl_s, settings.reject_reasons) == (300, ["blurry", "other"])
    assert str(settings.evidence_path) == "/srv/cw/evidence"
    assert settings.points_expiry_days == 365


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "claim_ttl: 5\n",
            "claim_ttl: unknown key (did you mean 'claim_ttl_s'?); allowed keys here: appeal_grant_reasons",
        ),
        ("claim_ttl_s: 5\n", "claim_ttl_s: must be greater than or equal to 60 (got 5)"),
        ("subject_ref_pattern: '(['\n", "subject_ref_pattern: not a regular expression"),
        ("reject_reasons: [a, a]\n", "reject_reasons: reasons must not repeat"),
        ("confirm_reasons: []\n", "confirm_reasons: has 0 items, needs at least 1"),
        ("appeal_window_days: 90\npoints_expiry_days: 30\n", "appeal_window_days must not exceed points_expiry_days"),
        ("- a list\n", "the top level must be a mapping"),
        ("claim_ttl_s: [\n", "not valid YAML"),
    ],
)
def test_bad_files_are_refused_with_a_clear_line(tmp_path, text, expected):
    path = tmp_path / "central.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_a_missing_file_is_one_problem(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "nope.yaml")


def test_policy_changes_are_audited_once_each_without_the_database_url(factory):
    first = CentralSettings(db_url="postgresql+psycopg://cw:s3cret@db/cw")
    with transaction(factory) as s:
        assert audit_settings(s, first, "admin", T0) is True
        assert audit_settings(s, first, "admin", T0) is False
        assert audit_settings(s, first.model_copy(update={"db_url": None}), "admin", T0) is False
        assert audit_settings(s, first.model_copy(update={"claim_ttl_s": 300}), "admin", T0) is True
        log = audit.entries(s, action="config.settings")
    assert len(log) == 2 and log[1].details["changed"] == ["claim_ttl_s"]
    assert all("s3cret" not in str(entry.details) for entry in log)


def test_catalogue_command_lists_and_appends_versions(db_url, tmp_path):
    # In tmp_path: a new version is audited, and its checkpoint goes to ./data/checkpoints.
    assert run_cli("central", "migrate", "--db", db_url).returncode == 0
    shown = run_cli("central", "catalogue", "--db", db_url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0].endswith("by migration): jaywalking 2, littering 3")
    added = run_cli(
        "central", "catalogue", "--db", db_url, "--set", "jaywalking=1", "--set", "littering=4", cwd=tmp_path
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[1].endswith("jaywalking 1, littering 4")
    assert len((tmp_path / "data" / "checkpoints" / "checkpoints.jsonl").read_text().splitlines()) == 1
    partial = run_cli("central", "catalogue", "--db", db_url, "--set", "jaywalking=1", cwd=tmp_path)
    assert partial.returncode == 1 and "exactly these types: jaywalking, littering" in partial.stderr
    malformed = run_cli("central", "catalogue", "--db", db_url, "--set", "jaywalking:1", cwd=tmp_path)
    assert malformed.returncode == 2 and "is not TYPE=POINTS" in malformed.stderr

"""The rule catalogue (models/rule_catalogue.py) is the one list of rules: it agrees with the message type, the
camera file's `rules:` section and the rule modules, and no other list of rules is spelt out in the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from central.ledger.tables import CatalogueRow, LedgerEntry
from central.tables import Infraction
from central.tuning.rejudge import RULES as WHAT_IF_SPECS
from edge.rules import RULES as RULE_CLASSES
from models.config.rules import RulesConfig
from models.infraction import InfractionType
from models.rule_catalogue import RULE_NAMES, RULES

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "common", "edge", "central", "curbwatch")
SUFFIXES = {".py", ".html", ".js"}

ALLOWED = {
    "models/rule_catalogue.py": "the catalogue itself",
    "central/tuning/rejudge.py": "each rule's re-judgeable thresholds, rule-specific code",
    "edge/evaluate.py": "the crossing-join figures only jaywalking has, rule-specific code",
    "edge/replay_report.html": "the item columns only littering has, rule-specific code",
    "edge/report_figures.py": "a colour per rule in the replay report's charts",
    "edge/loadgen.py": "synthetic events of both kinds for the load generator",
    "central/subject_mark.py": "littering's drop, walk-away and fire marks, rule-specific code",
    "central/console/templates/item.html": "the item box and life, which only littering has",
}
"""Files that may name a rule, each with why, besides each rule's own module (edge/rules/<name>.py). Migrations
are history and are never scanned."""
OWN_MODULES = {f"edge/rules/{name}.py" for name in RULE_NAMES}


def test_catalogue_is_the_message_type() -> None:
    assert get_args(InfractionType) == RULE_NAMES
    assert len(set(RULE_NAMES)) == len(RULE_NAMES)


def test_every_name_fits_the_databases_type_columns() -> None:
    columns = (Infraction.type, LedgerEntry.infraction_type, CatalogueRow.infraction_type)
    width = min(column.type.length for column in columns)  # type: ignore[attr-defined]
    assert max(len(name) for name in RULE_NAMES) <= width, f"a rule's name is stored in {width} characters"


def test_catalogue_matches_camera_file_and_rule_modules() -> None:
    assert tuple(RulesConfig.model_fields) == RULE_NAMES
    for entry in RULES:
        assert RulesConfig.model_fields[entry.name].annotation is entry.config
    rules = {rule.name: rule for rule in RULE_CLASSES}
    assert tuple(rules) == RULE_NAMES
    for entry in RULES:
        assert rules[entry.name].needs_zone == entry.zone_kinds[0]
    assert tuple(WHAT_IF_SPECS) == RULE_NAMES, "the Rules page needs a what-if spec for every rule"


def test_no_other_list_of_rules() -> None:
    pattern = re.compile("|".join(rf"[\"']{re.escape(name)}[\"']" for name in RULE_NAMES))
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            relative = path.relative_to(ROOT).as_posix()
            if path.suffix not in SUFFIXES or "/migrations/" in relative or relative in ALLOWED.keys() | OWN_MODULES:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, "a rule named outside models/rule_catalogue.py:\n" + "\n".join(found)

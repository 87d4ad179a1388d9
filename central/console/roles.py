"""Who may do what. Admins run the system but do not review; auditors read and never change a record."""

from __future__ import annotations

ANYONE = frozenset({"reviewer", "supervisor", "auditor", "admin"})
REVIEW = frozenset({"reviewer", "supervisor"})
SUPERVISE = frozenset({"supervisor"})
READ_EVIDENCE = frozenset({"reviewer", "supervisor", "auditor"})
READ_LEDGER = frozenset({"reviewer", "supervisor", "auditor"})
FILE_APPEAL = frozenset({"reviewer", "supervisor"})
READ_AUDIT = frozenset({"supervisor", "auditor", "admin"})
READ_ACCURACY = frozenset({"supervisor", "auditor", "admin"})
READ_REPORTS = frozenset({"supervisor", "auditor"})
READ_CAMERAS = frozenset({"reviewer", "supervisor", "auditor", "admin"})
READ_LITTER = frozenset({"reviewer", "supervisor"})
"""Who sees the litter still on the ground, to send street crews."""
ADMIN = frozenset({"admin"})

ROLE_WORDS = {"reviewer": "reviewer", "supervisor": "supervisor", "auditor": "auditor", "admin": "administrator"}
"""A role as the header names it beside the user's name: "admin (administrator)", "alice (reviewer)"."""

NAVIGATION = (
    ("Queue", "/queue", REVIEW),
    ("Appeals", "/appeals", READ_LEDGER),
    ("Ledger", "/ledger", READ_LEDGER),
    ("Cameras", "/cameras", READ_CAMERAS),
    ("Litter", "/litter", READ_LITTER),
    ("Accuracy", "/accuracy", READ_ACCURACY),
    ("Rules", "/rules", READ_ACCURACY),
    ("Reports", "/reports", READ_REPORTS),
    ("Subject record", "/subject-report", READ_REPORTS),
    ("Audit log", "/audit", READ_AUDIT),
    ("Users", "/admin/users", ADMIN),
    ("Zones", "/admin/zones", ADMIN),
    ("Settings", "/admin/config", ADMIN),
)


def home_for(role: str) -> str:
    """The first page a role lands on after signing in."""
    return next(path for _label, path, roles in NAVIGATION if role in roles)

"""The Rules page: per camera and rule, precision from reviewers' decisions over time beside the thresholds in
force, and a supervisor's "what if": stored rule traces judged again under proposed thresholds, with the camera
file change to hand to the operator. Nothing here changes a decision or a camera; what-ifs are audited."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from central import audit
from central.console.deps import console, now, require, require_change
from central.console.roles import READ_ACCURACY, SUPERVISE
from central.console.sessions import LiveSession
from central.console.view import render
from central.tuning import camera_change, precision
from central.tuning.chart import what_if_figure
from central.tuning.rejudge import RULES, current
from central.tuning.reviewed import CameraRule, Reviewed, camera_rules, reviewed
from central.tuning.whatif import Outcome, unit_words, what_if
from models.infraction import InfractionType, Scalar

router = APIRouter(include_in_schema=False)
IDENT = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
SitePath = Annotated[str, Path(pattern=IDENT, max_length=64)]
CameraPath = Annotated[str, Path(pattern=IDENT, max_length=64)]
RulePath = Annotated[InfractionType, Path()]


@dataclass(frozen=True)
class RuleView:
    where: CameraRule
    events: list[Reviewed]
    months: list[tuple[str, precision.Tally]]
    total: precision.Tally
    thresholds: dict[str, Scalar]
    """The newest reviewed event's trace thresholds: what the camera ran with, as far as central knows."""

    @property
    def judgeable(self) -> dict[str, float]:
        return current(self.thresholds, self.where.rule)

    @property
    def unit_words(self) -> str:
        """The trace's unit of distance in words ("frame widths", "metres"); "" when it names none."""
        return unit_words(self.thresholds.get("unit"))

    def replay_only(self) -> list[tuple[str, str, str]]:
        """(threshold, its value in the newest trace, why only a replay can judge it), one row per threshold."""
        rows = []
        for name, why in RULES[self.where.rule].replay_only_names():
            if name.endswith(".*"):
                prefix = name[:-1]
                found = [f"{k} {v}" for k, v in sorted(self.thresholds.items()) if k.startswith(prefix)]
                value = ", ".join(found)
            else:
                value = "" if self.thresholds.get(name) is None else str(self.thresholds[name])
            rows.append((name, value or "not in the trace", why))
        return rows


def _view(session: Session, where: CameraRule) -> RuleView:
    events = reviewed(session, where)
    return RuleView(
        where, events, precision.by_month(events), precision.tally(events), events[-1].thresholds if events else {}
    )


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, live: Annotated[LiveSession, Depends(require(READ_ACCURACY))]) -> HTMLResponse:
    with console(request).tx() as session:
        views = [_view(session, where) for where in camera_rules(session)]
    return render(request, "rules.html", live, views=views)


def _rule_page(
    request: Request,
    live: LiveSession,
    view: RuleView,
    *,
    proposed: dict[str, float] | None = None,
    outcome: Outcome | None = None,
    change: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    figure = what_if_figure(outcome, view.where.rule, view.judgeable, proposed) if outcome and proposed else None
    return render(
        request,
        "rule.html",
        live,
        status_code=status_code,
        view=view,
        spec=RULES[view.where.rule],
        proposed=proposed or view.judgeable,
        outcome=outcome,
        figure=figure,
        change=change,
        error=error,
        can_propose=live.principal.role in SUPERVISE,
    )


@router.get("/rules/{site}/{camera}/{rule}", response_class=HTMLResponse)
def rule_page(
    request: Request,
    site: SitePath,
    camera: CameraPath,
    rule: RulePath,
    live: Annotated[LiveSession, Depends(require(READ_ACCURACY))],
) -> HTMLResponse:
    with console(request).tx() as session:
        view = _view(session, CameraRule(site, camera, rule))
    return _rule_page(request, live, view)


async def _proposal(request: Request, view: RuleView) -> dict[str, float]:
    """The form's thresholds; ValueError naming the first that is not a number the camera file accepts."""
    form = await request.form()
    proposed = dict(view.judgeable)
    for knob in RULES[view.where.rule].knobs:
        raw = form.get(knob.threshold)
        if not isinstance(raw, str) or not raw.strip():
            continue
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{knob.threshold}: {raw[:40]!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{knob.threshold}: {raw[:40]!r} is not a number")
        proposed[knob.threshold] = value
    camera_change.config_values(view.where.rule, view.thresholds.get("unit"), proposed)
    return proposed


def _moved(view: RuleView, proposed: dict[str, float]) -> dict[str, float]:
    return {name: value for name, value in proposed.items() if view.judgeable.get(name) != value}


async def _run(
    request: Request, live: LiveSession, where: CameraRule, action: str
) -> tuple[RuleView, dict[str, float] | None, Outcome | None, str | None, str | None]:
    """Read, judge again, audit: (view, proposal, outcome, camera file change, error)."""
    ctx = console(request)
    with ctx.tx() as session:
        view = _view(session, where)
    if not view.events:
        return view, None, None, None, "no reviewed events of this camera and rule to judge again"
    try:
        proposed = await _proposal(request, view)
    except ValueError as exc:
        return view, None, None, None, str(exc)
    outcome = what_if(where.rule, view.events, _moved(view, proposed), view.thresholds.get("unit"))
    at = now()
    change = camera_change.camera_yaml(
        site=where.site,
        camera=where.camera,
        rule=where.rule,
        unit=view.thresholds.get("unit"),
        current=view.judgeable,
        proposed=proposed,
        by=live.principal.username,
        at=at,
        events=len(view.events),
    )
    with ctx.tx() as session:
        audit.record(
            session,
            live.principal.username,
            action,
            f"camera:{where.site}/{where.camera}",
            {
                "rule": where.rule,
                "proposed": _moved(view, proposed),
                "events": len(outcome.rows),
                "confirmed_dropped": outcome.dropped.confirmed,
                "false_alarms_dropped": outcome.dropped.false_alarms,
                "cannot_tell": outcome.unknown.count,
                "other_unit": outcome.other_unit,
            },
            now=at,
        )
    return view, proposed, outcome, change, None


@router.post("/rules/{site}/{camera}/{rule}/what-if", response_class=HTMLResponse)
async def run_what_if(
    request: Request,
    site: SitePath,
    camera: CameraPath,
    rule: RulePath,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
) -> HTMLResponse:
    view, proposed, outcome, change, error = await _run(request, live, CameraRule(site, camera, rule), "whatif.run")
    return _rule_page(
        request,
        live,
        view,
        proposed=proposed,
        outcome=outcome,
        change=change,
        error=error,
        status_code=422 if error else 200,
    )


@router.post("/rules/{site}/{camera}/{rule}/camera-change.yaml")
async def export_change(
    request: Request,
    site: SitePath,
    camera: CameraPath,
    rule: RulePath,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
) -> Response:
    view, _proposed, _outcome, change, error = await _run(
        request, live, CameraRule(site, camera, rule), "whatif.export"
    )
    if error or change is None:
        return _rule_page(request, live, view, error=error, status_code=422)
    name = f"{camera}-{rule}-thresholds.yaml"
    return Response(
        change, media_type="application/yaml", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )

"""The zone editor's page and the JSON calls its script makes (admin role; changes need the CSRF header).
Every answer the script acts on is JSON with `problems` (one line each, shown beside the form) or `detail`."""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field, ValidationError

from central import audit
from central.console.deps import console, require, require_change
from central.console.roles import ADMIN
from central.console.sessions import LiveSession
from central.console.view import render
from central.console.zone_editor import draft
from central.console.zone_editor.confine import confinement_problems
from central.console.zone_editor.frames import (
    STREAM_FRAME_TTL_S,
    DetectorBusy,
    EditorDetector,
    FrameCache,
    redacted_first_frame,
)
from central.console.zone_editor.replay_job import ReplayBusy, ReplayRunner
from central.console.zone_editor.sources import MAX_KEY_LENGTH, Source, SourceCatalogue, UnknownSource
from central.editor_settings import EditorSettings
from models.base import StrictModel
from models.config.zones import ZoneKind
from models.errors import ConfigError, format_validation_error

log = logging.getLogger(__name__)
router = APIRouter(prefix="/admin/zones", include_in_schema=False)
KINDS = list(get_args(ZoneKind))
_CREATE = threading.Lock()


@dataclass
class ZoneEditor:
    settings: EditorSettings
    catalogue: SourceCatalogue
    cameras_dir: Path
    detector: EditorDetector
    frames: FrameCache
    replays: ReplayRunner


def editor_of(request: Request) -> ZoneEditor:
    """This console's editor state, made on first use from the central settings."""
    state = request.app.state
    with _CREATE:
        if getattr(state, "zone_editor", None) is None:
            central = console(request).settings
            settings: EditorSettings = central.editor
            detector = EditorDetector(settings.detector)
            state.zone_editor = ZoneEditor(
                settings,
                SourceCatalogue(settings.media_paths(central.data_dir), settings.streams),
                settings.cameras_path(central.data_dir),
                detector,
                FrameCache(),
                ReplayRunner(detector),
            )
        return state.zone_editor


class SaveRequest(StrictModel):
    file: Annotated[str, Field(min_length=1, max_length=64)]
    loaded: Annotated[str | None, Field(max_length=64, description="The file the draft was loaded from.")] = None
    source: Annotated[str | None, Field(max_length=MAX_KEY_LENGTH)] = None
    config: dict[str, Any]


class ReplayRequest(StrictModel):
    source: Annotated[str, Field(min_length=1, max_length=MAX_KEY_LENGTH)]
    seconds: Annotated[int, Field(ge=1, le=300)]
    config: dict[str, Any]


def _problems(problems: list[str], status: int = 422) -> JSONResponse:
    return JSONResponse({"problems": problems}, status_code=status)


def _detail(message: str, status: int) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status)


def _with_source(config: dict[str, Any], source: Source) -> dict[str, Any]:
    current = config.get("source")
    return {**config, "source": {**(current if isinstance(current, dict) else {}), "uri": source.uri}}


def _known_uri(catalogue: SourceCatalogue, config: dict[str, Any]) -> bool:
    """Whether a draft saved without a chosen source names one the editor could have offered: an admin's page
    must not write a camera file that opens any path or URL on the machine."""
    source = config.get("source")
    uri = source.get("uri") if isinstance(source, dict) else None
    return not isinstance(uri, str) or catalogue.key_for_uri(uri) is not None


@router.get("", response_class=HTMLResponse)
def editor_page(request: Request, live: Annotated[LiveSession, Depends(require(ADMIN))]) -> HTMLResponse:
    editor = editor_of(request)
    return render(
        request,
        "zone_editor.html",
        live,
        sources=editor.catalogue.sources(),
        missing_folders=editor.catalogue.missing_folders(),
        camera_files=draft.camera_files(editor.cameras_dir),
        cameras_dir=editor.cameras_dir,
        kinds=KINDS,
        model=Path(editor.settings.detector.model).name,
        max_test_seconds=editor.settings.max_test_seconds,
    )


@router.get("/frame")
def frame(
    request: Request,
    _live: Annotated[LiveSession, Depends(require(ADMIN))],
    source: Annotated[str, Query(min_length=1, max_length=MAX_KEY_LENGTH)],
) -> Response:
    """The source's first frame as JPEG, people pixelated."""
    from edge.preview import ModelError, SourceError

    editor = editor_of(request)
    try:
        known = editor.catalogue.resolve(source)
    except UnknownSource as exc:
        return _detail(str(exc), 404)
    is_file = known.key.startswith("file:")
    try:
        cache_key = (known.key, Path(known.uri).stat().st_mtime if is_file else 0.0)
    except OSError:
        return _detail("no such video file under the media folders and no such stream", 404)
    cached = editor.frames.get(cache_key, None if is_file else STREAM_FRAME_TTL_S)
    if cached is None:
        try:
            cached = redacted_first_frame(known.uri, editor.detector)
        except DetectorBusy as exc:
            return _detail(str(exc), 409)
        except SourceError as exc:
            return _detail(str(exc), 422)
        except ModelError as exc:
            return _detail(f"no frame without redaction: {exc} (set editor.detector in the central settings)", 503)
        editor.frames.put(cache_key, cached)
    return Response(cached.jpeg, media_type="image/jpeg")


@router.get("/cameras/{name}")
def camera_file(
    request: Request,
    _live: Annotated[LiveSession, Depends(require(ADMIN))],
    name: Annotated[str, PathParam(pattern=draft.FILE_NAME_PATTERN)],
) -> JSONResponse:
    """A camera file as the editor edits it, the known source its uri names (or null) and its problems."""
    editor = editor_of(request)
    path = draft.file_path(editor.cameras_dir, name)
    if not path.is_file():
        return _detail(f"no camera file {path.name} in the cameras folder", 404)
    try:
        data = draft.read_draft(path)
    except ConfigError as exc:
        return _problems([f"{path.name}: {problem}" for problem in exc.problems])
    source = data.get("source")
    uri = source.get("uri") if isinstance(source, dict) else None
    key = editor.catalogue.key_for_uri(uri) if isinstance(uri, str) else None
    return JSONResponse(
        {"file": name, "config": data, "source": key, "uri": uri, "problems": draft.check(data).problems}
    )


def _parse(model: type[StrictModel], payload: dict[str, Any]) -> tuple[Any, JSONResponse | None]:
    try:
        return model.model_validate(payload), None
    except ValidationError as exc:
        return None, _problems(format_validation_error(exc, model))


@router.post("/save")
def save(
    request: Request,
    live: Annotated[LiveSession, Depends(require_change(ADMIN))],
    payload: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """Validate the draft with CameraConfig and write it into the cameras folder; problems come back one a line."""
    from edge.preview import zone_warnings

    body, refused = _parse(SaveRequest, payload)
    if refused is not None:
        return refused
    editor = editor_of(request)
    problems = []
    path = None
    try:
        path = draft.file_path(editor.cameras_dir, body.file)
    except ValueError as exc:
        problems.append(f"file: {exc}")
    replacing = path is not None and path.exists()
    if replacing and body.loaded != body.file:
        problems.append(f"file: {body.file}{draft.SUFFIX} already exists; load it to change it, or choose another name")
    config = body.config
    if body.source is not None:
        try:
            config = _with_source(config, editor.catalogue.resolve(body.source))
        except UnknownSource as exc:
            problems.append(f"source: {exc}")
    elif not _known_uri(editor.catalogue, config):
        problems.append("source.uri: not a video under the media folders or a configured stream; choose a source")
    problems += confinement_problems(config, editor.settings, console(request).settings.data_dir)
    checked = draft.check(config)
    problems += checked.problems
    if problems or checked.config is None or path is None:
        return _problems(problems)
    camera = checked.config.camera
    actor = live.principal.username
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = draft.render_yaml(
        checked.data,
        f"Camera {camera.id} at {camera.site}: written by the curbwatch console zone editor ({actor}, {at}).\n"
        "Zone polygons are [x, y] points normalised to the frame: 0,0 top left, 1,1 bottom right.",
    )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with console(request).tx() as session:
        audit.record(
            session,
            actor,
            "zones.save",
            target=path.name,
            details={
                "camera_id": camera.id,
                "site": camera.site,
                "zones": [f"{zone.name} ({zone.kind})" for zone in checked.config.zones],
                "replaced": replacing,
                "sha256": digest,
            },
        )
        # Written inside the transaction: a file that cannot be written leaves no audit entry behind.
        draft.write_atomically(path, text)
    log.info("zone editor: %s saved %s (%d zones)", actor, path, len(checked.config.zones))
    return JSONResponse(
        {
            "file": body.file,
            "path": str(path),
            "sha256": digest,
            "replaced": replacing,
            "warnings": zone_warnings(checked.config),
        }
    )


@router.post("/test")
def start_test(
    request: Request,
    live: Annotated[LiveSession, Depends(require_change(ADMIN))],
    payload: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """Replay the first `seconds` of a known source with the draft in the background; poll GET for the result."""
    body, refused = _parse(ReplayRequest, payload)
    if refused is not None:
        return refused
    editor = editor_of(request)
    limit = editor.settings.max_test_seconds
    if body.seconds > limit:
        return _problems([f"seconds: at most {limit} (editor.max_test_seconds in the central settings)"])
    try:
        source = editor.catalogue.resolve(body.source)
    except UnknownSource as exc:
        return _problems([f"source: {exc}"])
    checked = draft.check(_with_source(body.config, source))
    if checked.config is None:
        return _problems(checked.problems)
    try:
        with console(request).tx() as session:
            audit.record(
                session,
                live.principal.username,
                "zones.test",
                target=checked.config.camera.id,
                details={"source": source.label, "seconds": body.seconds},
            )
            status = editor.replays.start(
                checked.config,
                source.uri,
                key=source.key,
                label=source.label,
                seconds=body.seconds,
                actor=live.principal.username,
            )
    except ReplayBusy as exc:
        return _detail(str(exc), 409)
    return JSONResponse(status, status_code=202)


@router.get("/test")
def replay_status(request: Request, _live: Annotated[LiveSession, Depends(require(ADMIN))]) -> JSONResponse:
    """The running or last test replay: progress, then tracks and events."""
    return JSONResponse(editor_of(request).replays.status())

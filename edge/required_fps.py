"""The frame rate a camera's rules need; the heartbeat reports it, so central can warn about a camera that runs
slower than its own configuration assumes."""

from __future__ import annotations

from models.config.rules import RulesConfig

SAMPLES_PER_WINDOW = 3
"""Detector samples a rule needs inside its shortest time window: one to see a state begin, one to see it
hold, one to see it end. With fewer, a hysteresis cannot tell "stepped out for a moment" from "left"."""


def rule_windows(rules: RulesConfig) -> list[float]:
    """The time windows (seconds) the enabled rules judge from detector samples. A window of 0 switches its
    criterion off and is left out."""
    windows: list[float] = []
    if rules.jaywalking.enabled:
        jay = rules.jaywalking
        windows += [jay.min_duration_s, jay.exit_grace_s, jay.id_switch_s]
    if rules.littering.enabled:
        litter = rules.littering
        windows += [litter.min_static_s, litter.grace_s, litter.owner_window_s]
    return [window for window in windows if window > 0]


def required_fps(rules: RulesConfig, stride: int = 1) -> float | None:
    """Source frames per second the enabled rules need, or None when no rule judges any window.

        detector samples/s = SAMPLES_PER_WINDOW / shortest window
        source frames/s    = detector samples/s * detector.stride   (the detector sees every stride-th frame)

    Rules measure time, not frame counts, and test entry along the segment between two samples, so a lower rate
    shortens no crossing; what it loses is the hysteresis: with the defaults (shortest window 1 s: jaywalking
    min_duration_s and exit_grace_s) a camera needs 3 samples/s, i.e. 3 fps at stride 1 and 6 fps at stride 2.
    The littering item timers (static regions) run on every frame whatever the stride, so only the windows that
    follow a person count here."""
    windows = rule_windows(rules)
    if not windows:
        return None
    return round(SAMPLES_PER_WINDOW / min(windows) * stride, 2)

"""Privacy zones on synthetic frames: everything inside the polygon is pixelated, nothing outside changes."""

import numpy as np

from edge.privacy_mask import PrivacyMask
from edge.redact import Redactor
from models.config.redaction import RedactionConfig
from models.config.zones import Zone

TRIANGLE = Zone(name="far pavement", kind="privacy", polygon=[(0.1, 0.1), (0.9, 0.1), (0.1, 0.9)])
ROAD = Zone(name="road", kind="roadway", polygon=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)])


def textured() -> np.ndarray:
    return np.random.default_rng(5).integers(0, 255, (200, 300, 3), dtype=np.uint8)


def detail(image: np.ndarray, ys: slice, xs: slice) -> float:
    """Mean absolute difference between neighbouring pixels: high for texture, near 0 inside coarse blocks."""
    region = image[ys, xs].astype(int)
    return float(np.abs(np.diff(region, axis=1)).mean())


def test_inside_a_privacy_zone_is_pixelated_and_the_rest_is_untouched():
    raw = textured()
    image = raw.copy()
    PrivacyMask([ROAD, TRIANGLE], block_px=12).apply(image)
    inside = (slice(30, 80), slice(40, 120))  # near the triangle's right angle
    outside = (slice(150, 200), slice(200, 300))  # below the hypotenuse
    assert detail(image, *inside) < 0.2 * detail(raw, *inside)
    assert np.array_equal(image[outside], raw[outside])


def test_a_camera_without_privacy_zones_changes_nothing():
    raw = textured()
    image = raw.copy()
    mask = PrivacyMask([ROAD], block_px=12)
    mask.apply(image)
    assert mask.polygons == [] and np.array_equal(image, raw)


def test_a_frame_redaction_cannot_vouch_for_is_pixelated_whole():
    raw = textured()
    out = Redactor(RedactionConfig()).apply_whole(raw)
    assert detail(out, slice(None), slice(None)) < 0.2 * detail(raw, slice(None), slice(None))
    assert not np.array_equal(out, raw) and np.array_equal(raw, textured())

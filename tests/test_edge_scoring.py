"""Scoring on hand-written spans, and the hand labels themselves (every labelled clip and camera is usable)."""

from pathlib import Path

import pytest

from edge.evaluate import parse_rates, rate_overrides
from edge.scoring import Counts, Span, count, joined, load_labels, match, pair, place_distance, score_table
from models.config import load_camera_config
from models.errors import ConfigError
from tests.conftest import ROOT, shared_file

J, L = "jaywalking", "littering"


def test_overlapping_event_of_the_same_type_is_a_true_positive():
    counts = match([Span(J, 10, 40)], [Span(J, 30, 80)])
    assert (counts[J].true_positives, counts[J].false_positives, counts[J].false_negatives) == (1, 0, 0)
    assert counts[J].precision == counts[J].recall == counts[J].f1 == 1.0


def test_other_type_or_disjoint_range_does_not_match():
    counts = match([Span(L, 10, 40), Span(J, 100, 120)], [Span(J, 10, 40)])
    assert counts[J].true_positives == 0 and counts[J].false_positives == 1 and counts[J].false_negatives == 1
    assert counts[L].false_positives == 1 and counts[L].recall is None


def test_each_label_matches_at_most_once_and_the_best_overlap_wins():
    # Two predictions over one labelled crossing: one true positive, one false positive (a double count).
    counts = match([Span(J, 0, 20), Span(J, 15, 60)], [Span(J, 10, 60)])
    assert (counts[J].true_positives, counts[J].false_positives) == (1, 1)
    # The wider prediction takes the long label so the short one can still match the other label.
    counts = match([Span(J, 0, 12), Span(J, 5, 60)], [Span(J, 0, 8), Span(J, 20, 60)])
    assert counts[J].true_positives == 2 and counts[J].false_negatives == 0


def test_an_event_elsewhere_in_the_picture_does_not_find_a_labelled_walker_by_place():
    """A cyclist's event overlaps the frames of a labelled walker: a hit by frame overlap, a miss by place."""
    walker = Span(J, 40, 90, ((47, 0.40, 0.43), (60, 0.37, 0.43), (71, 0.32, 0.43)))
    cyclist = Span(J, 3, 69, ((3, 0.71, 0.55), (40, 0.36, 0.42), (69, 0.28, 0.40)))  # a few metres ahead of him
    same_walker = Span(J, 47, 71, ((47, 0.401, 0.431), (71, 0.318, 0.428)))
    assert count(pair([cyclist], [walker]))[J].true_positives == 1
    by_place = count(pair([cyclist], [walker], near=0.03))[J]
    assert (by_place.true_positives, by_place.false_positives, by_place.false_negatives) == (0, 1, 1)
    assert count(pair([same_walker], [walker], near=0.03))[J].true_positives == 1
    assert place_distance(same_walker, walker) < 0.01


def test_a_label_without_a_place_matches_by_overlap_alone_and_an_item_is_compared_where_it_lies():
    assert count(pair([Span(J, 0, 10, ((0, 0.9, 0.9),))], [Span(J, 5, 20)], near=0.01))[J].true_positives == 1
    bag = Span(L, 400, 1168, ((700, 0.66, 0.84),))
    assert place_distance(Span(L, 420, 760, ((760, 0.67, 0.85),)), bag, aspect=480 / 720) < 0.02
    assert place_distance(Span(L, 420, 760, ((760, 0.2, 0.5),)), bag) > 0.4


def test_f1_and_table():
    c = Counts(true_positives=4, false_positives=1, false_negatives=1)
    assert c.precision == pytest.approx(0.8) and c.recall == pytest.approx(0.8) and c.f1 == pytest.approx(0.8)
    table = score_table({J: c, L: Counts()})
    assert "precision" in table and "0.80" in table and table.splitlines()[2].split()[-1] == "-"


def test_bad_labels_file_is_one_line_per_problem(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "clips:\n  - video: x.mp4\n    sha256: nope\n    config: c.yaml\n    infractions:\n"
        "      - {type: speeding, frame_start: 5, frame_end: 1}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_labels(path)
    text = "\n".join(info.value.problems)
    assert "clips[0].sha256" in text and "speeding" in text


@pytest.mark.parametrize("labels", sorted((ROOT / "tests" / "labels").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_label_file_names_a_verified_clip_and_a_valid_camera(labels: Path):
    for clip in load_labels(labels).clips:
        video = shared_file("media", Path(clip.video).name)
        assert (ROOT / clip.video).resolve() == video
        config = load_camera_config(ROOT / clip.config)
        assert config.source.uri == clip.video
        zone_names = {zone.name for zone in config.zones}
        assert zone_names


def test_every_shared_clip_is_labelled():
    from tests.conftest import SHARED

    labelled = {
        Path(clip.video).name for p in (ROOT / "tests" / "labels").glob("*.yaml") for clip in load_labels(p).clips
    }
    shared = {p.name for p in (SHARED / "media").iterdir() if p.suffix in (".mp4", ".avi")}
    assert labelled == shared


def test_labels_scored_with_slack_match_an_event_that_ends_just_before_the_label_starts():
    """The independent labels were scored with their ranges widened by 2 s; the project's are not."""
    event, label = Span(J, 0, 40), Span(J, 50, 90)
    assert count(pair([event], [label]))[J].true_positives == 0
    assert count(pair([event], [label], slack=20))[J].true_positives == 1


def test_an_event_that_follows_two_labelled_walkers_in_turn_is_counted_as_joined():
    first = Span(J, 0, 50, ((0, 0.10, 0.60), (50, 0.30, 0.60)))
    second = Span(J, 60, 110, ((60, 0.31, 0.62), (110, 0.55, 0.62)))
    beside = Span(J, 0, 50, ((0, 0.10, 0.80), (50, 0.30, 0.80)))  # walking at the same time, further down
    one_for_both = Span(J, 0, 110, ((0, 0.10, 0.60), (50, 0.30, 0.60), (60, 0.31, 0.62), (110, 0.55, 0.62)))
    one_each = [Span(J, 0, 50, first.points), Span(J, 60, 110, second.points)]
    assert joined([one_for_both], [first, second, beside], near=0.05) == 1
    assert joined(one_each, [first, second, beside], near=0.05) == 0
    # Without paths two people in view at the same time cannot be told from one: not counted.
    assert joined([one_for_both], [Span(J, 0, 50), Span(J, 60, 110)], near=0.05) is None


def test_detection_rates_are_read_with_every_frame_as_the_reference():
    assert parse_rates("3, 6,every") == [3.0, 6.0, None]
    assert rate_overrides(None) == {"stride": 1} and rate_overrides(6.0) == {"fps": 6.0, "stride": None}
    for bad, says in (("fast", "neither a number"), ("0.1", "between 0.5 and 60"), (",", "no rate given")):
        with pytest.raises(ValueError, match=says):
            parse_rates(bad)

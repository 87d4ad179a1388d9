"""The rule trace in plain words: each threshold beside the measurement it judged, pass or fail; the rest listed
as it came. The keys are those the rules emit (edge/rules/jaywalking.py and littering.py `_hit`)."""

from models.rule_trace import trace_lines


def test_a_jaywalking_trace_pairs_time_move_and_depth_with_their_thresholds():
    thresholds = {
        "min_duration_s": 1.0,
        "min_distance": 0.35,
        "min_move": 0.1,
        "min_depth": 0.02,
        "exit_grace_s": 1.5,
        "min_person_confidence": 0.35,
        "unit": "frame_widths",
    }
    measurements = {"duration_s": 5.834, "max_move": 0.3, "max_depth": 0.05, "unit": "frame_widths", "samples": 20}
    lines = [(line.text, line.passed) for line in trace_lines(thresholds, measurements)]
    assert lines == [
        ("reached 0.05 frame widths into the road, needs at least 0.02 frame widths", True),
        ("in the road 5.8 s, needs at least 1.0 s", True),
        ("moved 0.30 frame widths from where they entered; a crossing by time needs at least 0.10 frame widths", True),
        (
            "moved 0.30 frame widths from where they entered; "
            "a move of at least 0.35 frame widths counts however brief",
            False,
        ),
        ("exit_grace_s 1.5", None),
        ("min_person_confidence 0.35", None),
        ("samples 20", None),
    ]


def test_a_littering_trace_judges_the_owner_near_at_the_drop_and_away_at_the_report():
    thresholds = {"grace_s": 3.0, "min_static_s": 10.0, "owner_distance": 1.5, "owner_window_s": 5.0, "unit": "m"}
    measurements = {
        "static_s": 9.5,
        "owner_away_s": 4.0,
        "owner_distance_at_drop": 0.4,
        "owner_distance_now": None,
        "unit": "m",
    }
    lines = [(line.text, line.passed, line.kind) for line in trace_lines(thresholds, measurements)]
    assert lines == [
        ("the item lay still 9.5 s, needs at least 10.0 s", False, "paired"),
        ("the owner was away 4.0 s, needs at least 3.0 s", True, "paired"),
        ("the owner was 0.40 m from the item as it appeared, needs at most 1.50 m", True, "paired"),
        ("the owner was out of view when reported, which counts as away", True, "paired"),
        ("owner_window_s 5.0", None, "threshold"),
    ]


def test_values_without_a_pair_are_still_shown_as_they_came():
    lines = trace_lines({"max_gap": 3}, {"min_inside_s": 1.8, "speed": 1.2})
    assert [(line.text, line.kind) for line in lines] == [
        ("max_gap 3", "threshold"),
        ("min_inside_s 1.8", "measurement"),
        ("speed 1.2", "measurement"),
    ]

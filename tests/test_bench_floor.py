"""`curbwatch bench floor`: recall against a person's height in model pixels, and each camera's smallest person in
its zones, and whether the model sees them under that floor."""

import math
import re

from edge.bench_floor import EDGES, Floor, floor_px
from tests.conftest import run_cli, shared_file


def test_the_floor_is_the_height_from_which_every_taller_bin_is_found_reliably():
    floor = Floor()
    for height, found, of in ((10, 1, 10), (20, 8, 10), (30, 10, 10), (40, 9, 10), (100, 10, 10)):
        for n in range(of):
            floor.add(height, n < found)
    assert floor_px(floor, 0.9) == 24, "the 20-24 bin finds 80 %: the floor is the next edge up"
    assert floor_px(floor, 0.5) == 12, "empty bins (12-20) do not stop it"
    assert sum(floor.wanted) == 50 and floor.wanted[EDGES.index(96)] == 10, "96 px and up in the last bin"
    assert math.isinf(floor_px(Floor(), 0.9)), "no people, no floor"


def test_bench_floor_prints_recall_by_height_and_the_smallest_person_in_the_zones(model_path):
    shared_file("media", "litter_aboda_video4_bag_left_outdoor.avi")
    config = "examples/litter_aboda_video4_bag_left_outdoor.yaml"
    result = run_cli("bench", "floor", "--config", config, "--frames", "8")
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"person height, model px +found +of +recall", result.stdout)
    assert re.search(r"96- +\d+ +\d+ +\d+%", result.stdout), "large people counted"
    assert re.search(r"recall is at least 90% from \d+ model px up", result.stdout)
    row = re.search(r"litter_aboda_video4_bag_left_outdoor +(\d+) +(\S+) +(\d+)  (yes|no)", result.stdout)
    assert row, result.stdout
    assert int(row[1]) > 0 and 0 < float(row[2]) < 1, "people stand in the litter watch zone, a share of the frame"
    assert int(row[3]) > 48 and row[4] == "no", "the man by the bag is large to the model"

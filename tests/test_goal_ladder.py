import pytest

from petitions.goals import next_goal


@pytest.mark.parametrize(
    ("count", "goal", "shown"),
    [
        (0, 75_000, 75_000),
        (52_222, 75_000, 75_000),
        (74_999, 75_000, 75_000),
        (75_000, 75_000, 100_000),  # reached: the next rung
        (75_001, 75_000, 100_000),
        (99, 50, 100),
        (100, 50, 200),
        (999, 500, 1_000),
        (1_000, 500, 2_000),
        (24_999, 10, 25_000),
        (25_000, 10, 50_000),
        (149_999, 10, 150_000),
        (999_999, 10, 1_000_000),
        (1_000_000, 10, 2_000_000),  # past the ladder: whole millions
        (2_500_000, 10, 3_000_000),
        (3_000_000, 10, 4_000_000),
    ],
)
def test_goal_ladder_boundaries(count, goal, shown):
    assert next_goal(count, goal) == shown


def test_an_organiser_goal_off_the_ladder_is_kept_until_reached():
    assert next_goal(1_234, 1_500) == 1_500
    assert next_goal(1_500, 1_500) == 2_000

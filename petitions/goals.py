"""The goal ladder: once a petition passes its organiser's goal, the next rung is shown instead,
so the page always has somewhere to climb to."""

LADDER = (
    100, 200, 500, 1_000, 2_000, 5_000, 10_000, 25_000, 50_000, 75_000, 100_000, 150_000,
    200_000, 250_000, 500_000, 750_000, 1_000_000,
)  # fmt: skip


def next_goal(count: int, goal: int) -> int:
    """The goal to show for `count` signatures: the organiser's until it is reached, then the
    smallest rung above the count (whole millions past the top)."""
    if count < goal:
        return goal
    for rung in LADDER:
        if rung > count:
            return rung
    return (count // 1_000_000 + 1) * 1_000_000

"""Thresholds: numbers of signatures that oblige someone to something (a written response, a
debate). Reaching one is found off the signing path, by `tend_petitions` every minute and when a
petition is saved in the admin, and recorded once as a `ThresholdReached` row with an audit entry.
docs/thresholds.md says why and how."""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from lib import audit

from . import milestones
from .models import LocalisedText, Petition, Threshold, ThresholdReached

SYSTEM = "system"


def thresholds_for(petition: Petition) -> list[Threshold]:
    """The petition's own list when it has one, else the site's; lowest first."""
    owner = Q(petition=petition) if petition.own_thresholds else Q(petition__isnull=True)
    return list(Threshold.objects.filter(owner).order_by("number"))


@dataclass(frozen=True)
class Marker:
    """A threshold as the progress bar shows it."""

    number: int
    consequence: LocalisedText
    reached_at: datetime.datetime | None
    respond_by: datetime.datetime | None
    owes_response: bool
    on_bar: bool

    @property
    def is_overdue(self) -> bool:
        return self.respond_by is not None and self.respond_by < timezone.now()


def markers(petition: Petition, goal: int, language: str) -> list[Marker]:
    """Each threshold, reached (with the words promised then) or not; one reached under a list
    since edited still shows, for its promise stands; a closed petition shows only what it
    reached. `on_bar` when the bar's scale, the goal shown, reaches it: the goal ladder climbs
    past each threshold as the count nears it."""
    reached = {row.number: row for row in petition.thresholds_reached.all()}
    shown = {}
    for threshold in thresholds_for(petition):
        shown[threshold.number] = Marker(
            threshold.number,
            threshold.consequence(language),
            None,
            None,
            threshold.owes_response,
            threshold.number <= goal,
        )
    for number, row in reached.items():
        shown[number] = Marker(
            number,
            row.consequence(language),
            row.reached_at,
            row.respond_by,
            row.owes_response,
            number <= goal,
        )
    if not petition.is_signable:
        # A closed petition reaches nothing more: only what it did reach is worth showing.
        shown = {number: marker for number, marker in shown.items() if marker.reached_at}
    return [shown[number] for number in sorted(shown)]


def next_to_reach(shown: list[Marker]) -> Marker | None:
    return next((marker for marker in shown if marker.reached_at is None), None)


def with_counts(petitions):
    """The exact count, summed from the shards: off the signing path, so it may be slow."""
    return petitions.annotate(total=Coalesce(Sum("count_shards__count"), 0))


def record_reached(petitions=None, *, by=SYSTEM) -> list[ThresholdReached]:
    """Record each threshold the open `petitions` (all open ones by default) have reached and
    have no row for; running it again records nothing new. Returns the new rows."""
    petitions = (Petition.objects if petitions is None else petitions).signable()
    site = list(Threshold.objects.filter(petition__isnull=True))
    lowest_site = min((t.number for t in site), default=None)
    rows = list(with_counts(petitions).only("pk", "own_thresholds", "slug", "title_en", "title_fa"))
    own_ids = [p.pk for p in rows if p.own_thresholds]
    own: dict[int, list[Threshold]] = {}
    for threshold in Threshold.objects.filter(petition_id__in=own_ids):
        own.setdefault(threshold.petition_id, []).append(threshold)
    candidates = [
        p for p in rows if p.own_thresholds or (lowest_site is not None and p.total >= lowest_site)
    ]
    done = set(
        ThresholdReached.objects.filter(petition__in=[p.pk for p in candidates]).values_list(
            "petition_id", "number"
        )
    )
    recorded = []
    for petition in candidates:
        listed = own.get(petition.pk, []) if petition.own_thresholds else site
        for threshold in sorted(listed, key=lambda t: t.number):
            if threshold.number <= petition.total and (petition.pk, threshold.number) not in done:
                row = reach(petition, threshold, petition.total, by=by)
                if row is not None:
                    recorded.append(row)
    return recorded


def reach(petition: Petition, threshold: Threshold, count: int, *, by) -> ThresholdReached | None:
    """The row and its audit entry together, or nothing if another run recorded it first."""
    now = timezone.now()
    respond_by = None
    if threshold.owes_response and threshold.deadline_days:
        respond_by = now + datetime.timedelta(days=threshold.deadline_days)
    with transaction.atomic():
        row, created = ThresholdReached.objects.get_or_create(
            petition=petition,
            number=threshold.number,
            defaults={
                "consequence_en": threshold.consequence_en,
                "consequence_fa": threshold.consequence_fa,
                "owes_response": threshold.owes_response,
                "count": count,
                "reached_at": now,
                "respond_by": respond_by,
            },
        )
        if not created:
            return None
        audit.record(
            by,
            audit.Action.THRESHOLD_REACHED,
            petition,
            threshold=threshold.number,
            count=count,
            consequence_en=threshold.consequence_en,
            consequence_fa=threshold.consequence_fa,
        )
        milestones.threshold_reached(row, by=by)
    return row


def close_due() -> list[Petition]:
    """Close the open petitions whose closing date has passed: signing already stopped then
    (`signable_now`); this makes their status and the record say so."""
    closed = []
    for petition in Petition.objects.due_to_close().order_by("pk"):
        with transaction.atomic():
            petition.close(by=SYSTEM, reason=Petition.ClosedReason.DATE, at=petition.closes_at)
            milestones.closed(petition, by=SYSTEM)
        closed.append(petition)
    return closed


def tend() -> tuple[list[ThresholdReached], list[Petition]]:
    """The periodic pass: thresholds first, so that a count reached before closing is kept; then
    each starter's quarters of the goal (petitions/milestones.py)."""
    reached = record_reached()
    milestones.tell_goal_progress()
    return reached, close_due()

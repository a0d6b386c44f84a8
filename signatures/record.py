"""The public record of a petition's count: what was counted, and every change since that was not
a signature, added up so that anyone can check the number on the page.

The starting figure, signatures counted, is read from the signatures themselves (when each first
entered the count), not from the sharded counter it is there to check; erased signatures are gone,
so their entries say how many of them had been counted. Entries are shown by day, never by second:
a time to the second could be matched to one person's withdrawal.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from .models import CountChange, Signature

Kind = CountChange.Kind
# The order the sum is written in, on the page and in the JSON.
KINDS = (
    Kind.INVALIDATED,
    Kind.RESTORED,
    Kind.WITHDRAWN,
    Kind.ERASED,
    Kind.DELETED,
    Kind.PAPER_ADDED,
    Kind.PAPER_REMOVED,
)
# Each paper batch is its own line, with its description: the record says where they came from.
PAPER = (Kind.PAPER_ADDED, Kind.PAPER_REMOVED)
REVIEW = (Kind.INVALIDATED, Kind.RESTORED)


@dataclass(frozen=True)
class Day:
    day: datetime.date
    kind: str
    reason: str
    entries: int
    signatures: int
    delta: int
    note: str = ""

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)

    @property
    def reason_label(self) -> str:
        return str(Signature.Reason(self.reason).label) if self.reason else ""

    def as_json(self) -> dict:
        return {
            "day": self.day.isoformat(),
            "kind": self.kind,
            "reason": self.reason or None,
            "entries": self.entries,
            "signatures": self.signatures,
            "change": self.delta,
            "note": self.note or None,
        }


@dataclass(frozen=True)
class Summary:
    counted: int  # signatures that entered the count when signed or confirmed
    changes: dict[str, int] = field(default_factory=dict)  # kind -> signed change to the count

    @property
    def total(self) -> int:
        """What the record adds up to: the count on the page, if nothing went wrong."""
        return self.counted + sum(self.changes.values())

    @property
    def lines(self) -> list[tuple[str, str, int]]:
        return [(kind, str(Kind(kind).label), self.changes.get(kind, 0)) for kind in KINDS]

    def as_json(self) -> dict:
        return {
            "signatures_counted": self.counted,
            "changes": {kind: self.changes.get(kind, 0) for kind in KINDS},
            "total": self.total,
        }


def summary(petition_id: int) -> Summary:
    changes = CountChange.objects.for_petition(petition_id)
    sums = {
        row["kind"]: row
        for row in changes.order_by()
        .values("kind")
        .annotate(delta=Sum("delta"), ever_counted=Sum("ever_counted"))
    }
    in_rows = Signature.objects.filter(petition_id=petition_id, counted_at__isnull=False).count()
    erased = sum(
        sums.get(kind, {}).get("ever_counted") or 0 for kind in (Kind.ERASED, Kind.DELETED)
    )
    return Summary(
        counted=in_rows + erased,
        changes={kind: row["delta"] or 0 for kind, row in sums.items()},
    )


def days(petition_id: int) -> list[Day]:
    """Newest first; one line per day, kind and reason (UTC days), and per paper batch's note."""
    rows = (
        CountChange.objects.for_petition(petition_id)
        .annotate(day=TruncDate("at", tzinfo=datetime.UTC))
        .order_by()
        .values("day", "kind", "reason", "note")
        .annotate(entries=Count("pk"), signatures=Sum("signatures"), delta=Sum("delta"))
        .order_by("-day", "kind", "reason", "note")
    )
    return [Day(**row) for row in rows]


def removed_after_review(petition_id: int) -> int:
    """Net of review, for the counter's line: removed less restored."""
    net = (
        CountChange.objects.for_petition(petition_id)
        .filter(kind__in=REVIEW)
        .aggregate(net=Sum("delta"))["net"]
    )
    return max(-(net or 0), 0)

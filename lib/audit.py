"""The audit log, written in the caller's transaction so that a change and its entry stand or fall
together."""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import translation
from django.utils.text import Truncator

from .models import AuditEntry

Action = AuditEntry.Action

LABEL_LENGTH = AuditEntry._meta.get_field("target_label").max_length
NOTE_LENGTH = 500


def actor_fields(actor) -> dict:
    """`actor` is a user, or a string naming a command-line operator or the system."""
    user = actor if getattr(actor, "pk", None) else None
    label = actor.get_username() if user else str(actor or "system")
    return {"actor": user, "actor_label": label[:150]}


def label_of(target) -> str:
    """In every language, so that a search in either finds it after the record is gone."""
    names = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            name = str(target)
        if name and name not in names:
            names.append(name)
    return Truncator(" · ".join(names)).chars(LABEL_LENGTH)


def _entry(who: dict, action: str, target, detail: dict) -> AuditEntry:
    if action not in Action.values:
        raise ValueError(f"Not an audit action: {action!r}")
    fields = {"target_type": None, "target_id": None, "target_label": ""}
    if target is not None:
        fields = {
            "target_type": ContentType.objects.get_for_model(target),
            "target_id": target.pk,
            "target_label": label_of(target),
        }
    return AuditEntry(**who, action=action, detail=detail, **fields)


def record(actor, action: str, target=None, **detail) -> AuditEntry:
    """`target` is None for what has no one record (an export of several petitions)."""
    entry = _entry(actor_fields(actor), action, target, detail)
    entry.save()
    return entry


def record_each(actor, action: str, targets: Iterable[tuple[object, dict]]) -> None:
    who = actor_fields(actor)
    AuditEntry.objects.bulk_create(
        _entry(who, action, target, detail) for target, detail in targets
    )


def forget_labels(model, pks) -> int:
    """For an erasure on request: the entries about these rows keep what was done, not their
    words."""
    return AuditEntry.objects.about_any(model, pks).forget_labels()

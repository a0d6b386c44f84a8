"""What a milestone email says, read when it is sent: to signers through the update outbox
(petitions/mailing.py), and to the starter and organisers (petitions/milestones.py). The words are
the site's, from gettext and the `emails/milestone-*` templates, in the reader's language; only the
petition's title, a threshold's consequence and the response are the campaign's."""

from django.db.models import Sum
from django.template import Context, engines
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html

from lib import persian
from lib.urls import site_url

from .models import LANGUAGE_CODES, Petition, ThresholdReached, Update

Kind = Update.Milestone
# Only the starter hears of quarters of the goal: the signers hear of thresholds.
GOAL = "goal"
QUARTERS = (25, 50, 75, 100)


def words(name: str):
    """The subject's or the opening sentence's template, rendered with a Context of our own so
    the same words serve the text email (not escaped) and the HTML one."""
    return engines["django"].get_template(f"emails/_milestone-{name}.txt").template


def final_count(petition: Petition) -> int:
    """The exact count, summed from its shards (as `thresholds.with_counts` does)."""
    total = petition.count_shards.aggregate(total=Sum("count"))["total"]
    return total or 0


def context(update: Update, language: str, *, audience: str) -> dict:
    return context_for(
        update.petition,
        update.milestone,
        update.milestone_number,
        language,
        audience=audience,
        update=update,
    )


def context_for(
    petition: Petition,
    kind: str,
    number: int | None,
    language: str,
    *,
    audience: str,
    update: Update | None = None,
) -> dict:
    """`audience`: "signer", "starter" or "organiser". `number`: the threshold's, the final
    count of a closed petition, or the percent of the goal."""
    page_language = petition.page_language(language)
    text = petition.in_language(page_language)
    with translation.override(page_language):
        page_url = site_url(petition.get_absolute_url())
    facts = {
        "update": update,
        "kind": kind,
        "audience": audience,
        "petition": petition,
        "petition_title": text.title,
        "number": number,
        "page_url": page_url,
    }
    if audience == "organiser":
        facts["admin_url"] = site_url(
            reverse("admin:petitions_petition_change", args=[petition.pk])
        )
    if kind == Kind.THRESHOLD:
        row = ThresholdReached.objects.filter(petition=petition, number=number).first()
        facts["threshold"] = row
        facts["consequence"] = row.consequence(language) if row else None
    elif kind in (Kind.RESPONSE, Kind.OUTCOME):
        facts |= answer(petition, text)
    elif kind == Kind.CLOSED:
        facts |= answer(petition, text)
        reached = list(petition.thresholds_reached.order_by("number"))
        facts["reached"] = [(row, row.consequence(language)) for row in reached]
        # A response answers what the thresholds asked for; without one it is still owed.
        facts["owed"] = (
            []
            if facts["has_response"]
            else [(row, text) for row, text in facts["reached"] if row.owes_response]
        )
        facts["reason"] = (
            Petition.ClosedReason(petition.closed_reason).label if petition.closed_reason else ""
        )
    elif kind == GOAL:
        facts["goal"] = petition.goal
        facts["percent"] = persian.format_percent(number or 0, language)
    # Worked out once for all the signers of a chunk: only the name and the unsubscribe link
    # differ from one message to the next.
    with translation.override(language):
        facts["language"] = language
        subject = words("subject").render(Context(facts, autoescape=False))
        facts["subject"] = " ".join(subject.split())
        title = facts["petition_title"]
        lead = words("lead")
        plain = lead.render(Context(facts | {"title": title.value}, autoescape=False))
        facts["lead_text"] = plain.strip()
        # Autoescaped, the organiser's title isolated so it cannot reorder the sentence around it.
        isolated = format_html('<bdi lang="{}">{}</bdi>', title.lang, title.value)
        facts["lead_html"] = lead.render(Context(facts | {"title": isolated})).strip()
    return facts


def answer(petition: Petition, text) -> dict:
    return {
        "has_response": petition.has_response,
        "response": text.response,
        "response_html": text.response_html if petition.has_response else "",
        "response_url": petition.response_url,
        "outcome": Petition.Outcome(petition.outcome).label if petition.outcome else "",
    }


def titles(petition: Petition, kind: str, number: int | None) -> dict[str, str]:
    """The subject in each language, kept as the milestone update's title for the admin."""
    return {
        code: context_for(petition, kind, number, code, audience="signer")["subject"]
        for code in LANGUAGE_CODES
    }


def summary(petition: Petition, kind: str, number: int | None) -> dict[str, str]:
    """The opening sentence in each language, kept as the milestone update's text."""
    return {
        code: " ".join(
            context_for(petition, kind, number, code, audience="signer")["lead_text"].split()
        )
        for code in LANGUAGE_CODES
    }

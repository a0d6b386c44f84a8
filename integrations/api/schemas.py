"""What the API answers, field by field. The descriptions are the reference: /api/v1/openapi.json
carries them, and the reference page (/en/api/, /fa/api/) prints them."""

import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

Language = Literal["en", "fa"]
State = Literal["open", "closed"]
Outcome = Literal["won", "responded", "delivered", "closed"]

STATE = (
    "`open`: taking signatures now. `closed`: published but no longer taking signatures (closed "
    "by the organisers or past its closing date)."
)
OUTCOME = (
    "What came of it, once the organisers record it: `won`, `responded` (the decision maker "
    "answered), `delivered` (handed over), `closed` (closed without a win); null until then."
)
COUNT = (
    "Signatures counted: confirmed where the petition asks for email confirmation, never the "
    "ones removed by moderators, and those collected on paper and entered by a moderator. The "
    "same figure as the petition page, exact within a second."
)
PAPER = (
    "How many of `count` were collected on paper (entered by a moderator, less any batch "
    "removed); 0 when none. `count` minus this is the online figure."
)
GOAL = (
    "The goal shown beside the count: the organisers' goal, raised to the next step of the "
    "ladder once the count passes it (as on the page)."
)
UTC = "ISO 8601, UTC (ends in Z)."


class Error(Schema):
    detail: str = Field(description="What went wrong, in English.")


class ValidationProblem(Schema):
    detail: list[dict] = Field(description="Which parameters were wrong and why (pydantic's list).")


class PageLinks(Schema):
    en: str = Field(
        description="The English page. A petition not published in English says so "
        "there and links to the Persian one."
    )
    fa: str = Field(description="The Persian page, likewise.")


class PetitionItem(Schema):
    slug: str = Field(description="The petition's address on this site; may be in Persian letters.")
    url: str = Field(description="This petition in the API (`/api/v1/petitions/{slug}`).")
    state: State = Field(description=STATE)
    languages: list[Language] = Field(
        description="The languages it is published in: `en`, `fa` or both."
    )
    title_en: str = Field(description="The English title as stored; empty if there is none.")
    title_fa: str = Field(description="The Persian title as stored (UTF-8); empty if none.")
    count: int = Field(ge=0, description=COUNT)
    goal: int = Field(gt=0, description=GOAL)
    outcome: Outcome | None = Field(description=OUTCOME)
    opened_at: datetime.datetime | None = Field(
        description=f"When it was published and began taking signatures. {UTC}"
    )
    closes_at: datetime.datetime | None = Field(
        description=f"When it stops taking signatures, if a date is set. {UTC}"
    )
    pages: PageLinks = Field(description="The petition's pages for people, in each language.")


class PetitionList(Schema):
    total: int = Field(ge=0, description="How many petitions match, over all pages.")
    limit: int = Field(ge=1, description="The page size asked for.")
    offset: int = Field(ge=0, description="How many matching petitions come before this page.")
    next: str | None = Field(
        description="The address of the next page with the same filters; null on the last page."
    )
    previous: str | None = Field(description="The address of the previous page; null on the first.")
    results: list[PetitionItem] = Field(
        description="Newest first by publication (then by an internal number, so that the order "
        "is stable while you page)."
    )


class Response(Schema):
    text_en: str = Field(
        description="The decision maker's response in English, as stored "
        "(light Markdown); empty if none."
    )
    text_fa: str = Field(description="The response in Persian, as stored; empty if none.")
    date: datetime.date | None = Field(description="When the response was given (YYYY-MM-DD).")
    source_url: str = Field(description="Where the response was published; empty if unknown.")


class Threshold(Schema):
    number: int = Field(gt=0, description="The count at which it applies.")
    consequence_en: str = Field(
        description="What happens at this number, in English, as promised (when reached: as it "
        "was promised then). Empty if written only in Persian."
    )
    consequence_fa: str = Field(
        description="The same in Persian; empty if written only in English."
    )
    reached_at: datetime.datetime | None = Field(
        description=f"When the site recorded the petition reaching it (checked every minute); "
        f"null if not reached. {UTC}"
    )
    respond_by: datetime.datetime | None = Field(
        description=f"The deadline for a response it calls for, once reached; null without "
        f"one. {UTC}"
    )


class RecordChanges(Schema):
    invalidated: int = Field(le=0, description="Removed after a moderator's review.")
    restored: int = Field(ge=0, description="Put back after review.")
    withdrawn: int = Field(le=0, description="Withdrawn by their signers.")
    erased: int = Field(le=0, description="Erased at their signers' request.")
    deleted: int = Field(le=0, description="Deleted by a moderator.")
    paper_added: int = Field(
        ge=0, description="Signatures collected on paper and entered by a moderator."
    )
    paper_removed: int = Field(le=0, description="Paper batches a moderator removed again.")


class Record(Schema):
    signatures_counted: int = Field(
        ge=0, description="Signatures that entered the count when made or confirmed."
    )
    changes: RecordChanges = Field(description="Each kind of change to the count, signed.")
    total: int = Field(
        description="signatures_counted plus the changes: the count, when nothing went wrong."
    )
    url: str = Field(description="The record day by day, as JSON, with reason categories.")


class PetitionDetail(PetitionItem):
    original_language: Language = Field(description="The language it was written in.")
    addressed_to_en: str = Field(description="The decision maker it asks, in English, as stored.")
    addressed_to_fa: str = Field(description="The decision maker it asks, in Persian, as stored.")
    summary_en: str = Field(description="The English summary as stored; empty if none.")
    summary_fa: str = Field(description="The Persian summary as stored; empty if none.")
    letter_en: str = Field(
        description="The English letter to the decision maker as stored: plain text or light "
        "Markdown, a blank line between paragraphs. Empty if none."
    )
    letter_fa: str = Field(description="The Persian letter as stored; empty if none.")
    created_at: datetime.datetime = Field(
        description=f"When it was written (or submitted for review). {UTC}"
    )
    last_signed_at: datetime.datetime | None = Field(
        description=f"When the last counted signature came in; null before the first. {UTC}"
    )
    outcome_date: datetime.date | None = Field(
        description="When the outcome was recorded (YYYY-MM-DD); null without an outcome."
    )
    response: Response | None = Field(
        description="The decision maker's response, if the organisers recorded one."
    )
    count_url: str = Field(description="The count alone, for polling.")
    history_url: str = Field(description="The count over time.")
    countries_url: str = Field(description="Signers by country, with small countries folded.")
    thresholds: list[Threshold] = Field(
        description="The numbers that oblige someone to something (the site's, or the "
        "petition's own), lowest first, each with whether and when it was reached."
    )
    record: Record = Field(
        description="What the public record of the count adds up to: every change to the count "
        "that was not a signature (removals after review, restorations, withdrawals, erasures, "
        "paper batches entered and removed)."
    )


class Count(Schema):
    count: int = Field(ge=0, description=COUNT)
    goal: int = Field(gt=0, description=GOAL)
    last_signed_at: datetime.datetime | None = Field(
        description=f"When the last counted signature came in; null before the first. {UTC}"
    )
    outcome: Outcome | None = Field(description=OUTCOME)
    paper: int = Field(ge=0, description=PAPER)


class Interval(Schema):
    start: datetime.datetime = Field(
        description=f"The start of the hour or day (UTC midnight). {UTC}"
    )
    signatures: int = Field(ge=1, description="Counted signatures made in this hour or day.")
    total: int = Field(ge=1, description="Counted signatures made up to its end.")


class History(Schema):
    slug: str = Field(description="The petition.")
    interval: Literal["hour", "day"] = Field(description="The length of each step.")
    total: int = Field(
        ge=0,
        description="The sum of the series. Signatures a moderator removes more than a day "
        "later leave the series at the next rebuild, so this can differ a little from `count`.",
    )
    series: list[Interval] = Field(
        description="Only the hours or days in which someone signed, oldest first."
    )


class CountryCount(Schema):
    country: str = Field(
        description="ISO 3166-1 alpha-2 code of the country the signer gave, e.g. GB, IR."
    )
    count: int = Field(ge=1, description="Counted signers who gave that country.")


class Countries(Schema):
    countries: list[CountryCount] = Field(
        description="Countries with at least `minimum` signers, largest first."
    )
    other: int = Field(
        ge=0,
        description="Signers in every country with fewer than `minimum`, added up, so that no "
        "small group (a handful of signers in one country) can be singled out.",
    )
    minimum: int = Field(ge=1, description="The smallest group shown by its country.")

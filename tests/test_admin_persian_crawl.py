"""The Persian admin, crawled: with data on every model, each role visits every page the admin
offers it (lists with their filters, change, add, history and the admins' own pages) and every
page reads as Persian: Solar Hijri dates, Persian digits, no English outside a short allow-list.

Pages are discovered, not listed: the app list the admin shows each role, each admin's own
URLs, and the filter links each list offers. A page added tomorrow is crawled tomorrow."""

import datetime
import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from lib import audit, persian
from lib.models import AuditEntry
from lib.persian import persian_digits
from petitions import milestones
from petitions.models import Delivery, DeliveryPack, Petition, Update
from signatures import paper
from signatures.models import BlockedAttempt, Signature
from tests.factories import make_petition, make_signature, make_staff, make_staff_in
from tests.html import elements

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL

HOSTILE_TITLE = 'Save the "Green" park\'s <script>alert(1)</script> & co 🌳\u200cها'
LONG_NAME = "A" * 100
# Brand names and technical terms a Persian reader meets in Latin letters anyway.
ALLOWED_WORDS = {
    "PDF",
    "CSV",
    "JSON",
    "Lines",
    "IP",
    "oEmbed",
    "Markdown",
    "HTTP",
    "HTTPS",
    "GET",
    "POST",
    "sha256",
    "ID",
    # axes records a request without a path as "<unknown>", and keeps "User Agent" in its
    # own Persian.
    "unknown",
    "User",
    "Agent",
    # Key names as printed on the keys, in Django's "hold down Control, or Command on a Mac".
    "Control",
    "Command",
}
# The months' names, and the short forms Django's formats use.
ENGLISH_MONTHS = [
    *persian.ENGLISH_MONTHS,
    *(name[:3] for name in persian.ENGLISH_MONTHS if name != "May"),
    "Sept",
]
# Gregorian months as Persian writes them; "مه" (May) is left out: it is also the word for fog.
GREGORIAN_IN_PERSIAN = [
    "ژانویه",
    "فوریه",
    "مارس",
    "آوریل",
    "ژوئن",
    "ژوئیه",
    "جولای",
    "اوت",
    "آگوست",
    "سپتامبر",
    "اکتبر",
    "نوامبر",
    "دسامبر",
]
# Code-like values shown as they are: addresses (taken out before what users typed, which they
# contain), then emails, paths, hashes and file names.
ADDRESS = re.compile(r"https?://\S+")
CODE_LIKE = re.compile(r"\S+@\S+|(?<!\w)/[\w./?=&%-]*|\b[0-9a-f]{16,}\b|\S+\.(?:pdf|csv)\b")


class VisibleText(HTMLParser):
    """What a reader sees: text outside scripts and styles, the words on buttons, and no text
    marked as another language (lang="en", an English title typed by an organiser)."""

    SKIP = {"script", "style", "textarea", "template"}
    VOID = {"br", "input", "img", "meta", "link", "hr", "col", "source", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.chunks: list[str] = []

    @property
    def hidden(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") in ("submit", "button") and not self.hidden:
            self.chunks.append(attrs.get("value") or "")
        if tag in self.VOID:
            return
        skipped = tag in self.SKIP or (attrs.get("lang") or "fa") != "fa"
        self.stack.append(skipped)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not self.hidden:
            self.chunks.append(data)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and not href.startswith(("#", "javascript:", "mailto:")):
            self.hrefs.append(href)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.chunks).split())


def problems(html: str, typed: list[str]) -> list[str]:
    """Each Latin digit, Gregorian month and English word left in a Persian page's text, with
    what users typed (names, titles, emails) taken out first."""
    text = ADDRESS.sub(" ", visible_text(html))
    for value in sorted(typed, key=len, reverse=True):
        text = text.replace(value, " ")
    text = CODE_LIKE.sub(" ", text)
    found = []
    for match in re.finditer(r"\S*[0-9]\S*", text):
        found.append(f"Latin digits: {match.group()!r}")
    for word in re.findall(r"[A-Za-z]+\.?", text):
        bare = word.rstrip(".")
        if bare in ENGLISH_MONTHS:
            found.append(f"Gregorian month: {word!r}")
        elif len(bare) > 1 and bare not in ALLOWED_WORDS:
            found.append(f"English: {bare!r}")
    for month in GREGORIAN_IN_PERSIAN:
        if re.search(rf"(?<![\w\u0600-\u06ff]){month}(?![\w\u0600-\u06ff])", text):
            found.append(f"Gregorian month: {month!r}")
    return found


@pytest.fixture
def world(tmp_path, settings):
    """A row on every model the admin shows, in every state, with hostile text."""
    settings.DELIVERY_PACK_ROOT = str(tmp_path)
    now = timezone.now()
    past = now - datetime.timedelta(days=400)
    superuser = make_staff("root", email="root@example.com")
    moderator = make_staff_in("Moderators", "mod")
    organiser = make_staff_in("Organisers", "org")
    petitions = {
        status: make_petition(
            status=status,
            title_en=f"{HOSTILE_TITLE} {status}",
            title_fa=f"عنوان {persian_digits(index)}",
            goal=75000,
            starter_name="علي كريمي",
            starter_email="starter@example.com",
            email_confirmed_at=past if status != Petition.Status.DRAFT else None,
            opened_at=past if status in Petition.Status.PUBLIC else None,
            closes_at=now + datetime.timedelta(days=30),
            outcome_date=past.date(),
            response_date=past.date(),
        )
        for index, status in enumerate(Petition.Status.values)
    }
    public = petitions[Petition.Status.OPEN]
    signatures = [
        make_signature(public, name=LONG_NAME, created_at=past, confirmed_at=past),
        make_signature(public, name="سارا کریمی", locality="Kerman", country="IR"),
        make_signature(
            public, name="Zahra علی", status=Signature.Status.INVALIDATED, source="widget:x.org"
        ),
    ]
    update = Update.objects.create(
        petition=public,
        title_en="We delivered 52,000 signatures",
        title_fa="۵۲ هزار امضا را تحویل دادیم",
        body_en="Thanks.",
        body_fa="سپاس.",
        email_signers=True,
        author=organiser,
    )
    Update.objects.create(
        petition=public,
        title_en="Sent",
        title_fa="فرستاده",
        body_en="Sent.",
        body_fa="فرستاده شد.",
        status=Update.Status.PUBLISHED,
        email_signers=True,
        email_state=Update.Email.SENDING,
        published_at=now,
        email_started_at=now,
        approved_by=moderator,
    )
    sent = Update.objects.get(title_en="Sent")
    for signature, state in zip(signatures, Delivery.State.values, strict=False):
        Delivery.objects.create(update=sent, signature=signature, state=state)
    # A milestone the site announced itself, its signers held for the day.
    milestone = milestones.announce(
        public, Update.Milestone.THRESHOLD, "threshold:50000", 50000, by="system"
    )
    Delivery.objects.filter(update=milestone).update(state=Delivery.State.HELD, due_at=now)
    for status in DeliveryPack.Status.values:
        pack = DeliveryPack.objects.create(
            petition=public,
            status=status,
            requested_by=superuser,
            finished_at=now if status == DeliveryPack.Status.DONE else None,
            signatures=41780,
            names_total=41780,
            names_done=41780 if status == DeliveryPack.Status.DONE else 1200,
        )
        if status == DeliveryPack.Status.DONE:
            pack.pdf.save("pack.pdf", ContentFile(b"%PDF-1.4"), save=False)
            pack.csv.save("pack.csv", ContentFile(b"name\n"), save=False)
            pack.save()
    rejected = petitions[Petition.Status.REJECTED]
    AuditEntry.objects.create(
        created_at=past,
        actor=moderator,
        actor_label="mod",
        action=AuditEntry.Action.PETITION_REJECTED,
        target_type=ContentType.objects.get_for_model(Petition),
        target_id=rejected.pk,
        target_label=audit.label_of(rejected),
        detail={"reason": Petition.RejectionReason.OTHER, "note": "Please add a source."},
    )
    # Every kind of detail the site writes, read in Persian.
    for action, target, detail in [
        (audit.Action.PETITION_PUBLISHED, public, {}),
        (audit.Action.PETITION_TIDIED, public, {"fields": ["title_fa", "letter_fa"]}),
        (audit.Action.PETITION_ERASED, None, {"deleted": 2}),
        (audit.Action.SIGNATURE_EXPORTED, public, {"signatures": 1200, "format": "csv"}),
        (
            audit.Action.SIGNATURE_EXPORTED,
            None,
            {
                "signatures": 41780,
                "format": "jsonl",
                "status": "counted",
                "since": past.isoformat(),
                "interrupted": True,
                "petitions": [p.slug for p in petitions.values()],
            },
        ),
        (audit.Action.SIGNATURE_INVALIDATED, public, {"signatures": 1, "note": "spam burst"}),
        (audit.Action.PACK_MADE, public, {"pack": 12, "signatures": 41780, "names": 41780}),
        (audit.Action.PACK_DOWNLOADED, public, {"pack": 12, "kind": "pdf", "names": 41780}),
        (audit.Action.UPDATE_APPROVED, update, {"recipients": 3, "cap_overridden": True}),
        (audit.Action.UPDATE_RESENT, update, {"emails": 2}),
    ]:
        audit.record(moderator, action, target, **detail)
    BlockedAttempt.objects.create(
        petition=public, reason=BlockedAttempt.Reason.RATE_IP, ip_hash="ab" * 32, minute=now
    )
    # Paper batches: a number, rows with a duplicate and an invalid row, and one removed.
    paper.enter_count(public, count=3100, description="نمایشگاه کتاب تهران", by=moderator)
    sheets = f"name,email,country\n{LONG_NAME},,IR\nعلي كريمي,ali@x.org,ایران\nBad,x,DE\n"
    paper.enter_rows(public, data=sheets.encode(), description="برگه‌ها 🌳", by=moderator)
    removed = paper.enter_count(public, count=12, description="اشتباه", by=moderator)
    paper.remove(removed, by=moderator)
    AccessAttempt.objects.create(
        username="mod", ip_address="203.0.113.5", user_agent="curl", failures_since_start=3
    )
    AccessFailureLog.objects.create(
        username="mod", ip_address="203.0.113.5", user_agent="curl", locked_out=True
    )
    # A history page with a row shows its date and time as Django formats them.
    for model, pk, label in [(Petition, public.pk, public.title_en), (Group, 1, "Moderators")]:
        LogEntry.objects.create(
            user=superuser,
            content_type=ContentType.objects.get_for_model(model),
            object_id=str(pk),
            object_repr=label,
            action_flag=CHANGE,
            change_message=json.dumps([{"changed": {"fields": ["Title (English)"]}}]),
        )
    # What users typed, shown as typed: taken out of the text before it is checked.
    typed = ["root", "mod", "org", "spam burst", "Please add a source.", "Kerman", "x.org"]
    typed += ["203.0.113.5", "curl", "ali@x.org"]
    for petition in petitions.values():
        typed += [petition.title_en, petition.slug, petition.starter_name, "The Minister"]
        typed += [petition.summary_en, "Dear Minister,", "Please act."]
    for one in Update.objects.all():
        typed += [one.title_en, one.body_en]
    for signature in Signature.objects.all():
        typed += [signature.name, signature.email, signature.email_canonical]
    users = {"superuser": superuser, "moderator": moderator, "organiser": organiser}
    typed += [user.email for user in users.values() if user.email]
    # The role groups are named in the data (a superuser may rename them), like a username.
    typed += list(Group.objects.values_list("name", flat=True))
    return {"users": users, "typed": typed, "update": update}


class _Request:
    """Enough of a request for the app list and the admins' querysets."""

    def __init__(self, user):
        self.user = user
        self.GET = {}
        self.META = {}


def admin_pages(user) -> list[str]:
    """Every page of the admin this user is offered: each model's list and add page, the change
    and history pages of its rows, and the admin's own pages, filled with a row's key."""
    request = _Request(user)
    pages = [ADMIN]
    for app in admin.site.get_app_list(request):
        for entry in app["models"]:
            model = entry["model"]
            model_admin = admin.site.get_model_admin(model)
            pages.append(entry["admin_url"])
            if entry.get("add_url"):
                pages.append(entry["add_url"])
            opts = model._meta
            keys = list(model_admin.get_queryset(request).values_list("pk", flat=True)[:5])
            for pk in keys:
                for view in ("change", "history"):
                    pages.append(
                        reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[pk])
                    )
            prefix = f"{opts.app_label}_{opts.model_name}_"
            standard = {prefix + view for view in ("changelist", "add", "history", "delete")}
            standard.add(prefix + "change")
            for pattern in model_admin.get_urls():
                name = getattr(pattern, "name", None)
                # A page of the admin's own (a user's password page) ends in a standard word.
                if not name or name in standard:
                    continue
                for args in ([], *([pk] for pk in keys), *([pk, "pdf"] for pk in keys)):
                    try:
                        pages.append(reverse(f"admin:{name}", args=args))
                    except NoReverseMatch:
                        continue
    return list(dict.fromkeys(pages))


def filter_links(html: str, base: str) -> list[str]:
    """The filter and date drill-down links a list offers (each once, without its page)."""
    parser = Links()
    parser.feed(html)
    return [
        urljoin(base, href)
        for href in parser.hrefs
        if href.startswith("?") and "o=" not in href and "p=" not in href
    ]


def crawl(client: Client, start: list[str]) -> dict[str, str]:
    """Each page, and each filter link of a list one step deep (deeper only combines them)."""
    seen: dict[str, str] = {}
    queue = [(url, 0) for url in start]
    while queue:
        url, depth = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = ""
        if response.status_code >= 500:
            seen[url] = f"<p>Server error {response.status_code}</p>"
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        seen[url] = html
        if depth == 0 and ("changelist-filter" in html or "date-hierarchy" in html):
            queue += [(link, 1) for link in filter_links(html, url)]
    return seen


def management_form(html: str) -> dict:
    return {
        found["name"]: found.get("value") or ""
        for found in elements(html, "input", type="hidden")
        if found.get("name", "").endswith(("_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"))
    }


@pytest.mark.parametrize("role", ["superuser", "moderator", "organiser"])
def test_every_persian_admin_page_reads_as_persian(world, role):
    # A server error is a finding on its page, not the end of the crawl.
    client = Client(raise_request_exception=False)
    user = world["users"][role]
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    pages = crawl(client, admin_pages(user))
    # An add form sent empty shows the error banner and every field's message. A browser sends
    # its inlines' management form (hidden inputs) even so.
    for url in [u for u in pages if u.endswith("/add/") and pages[u]]:
        response = client.post(url, management_form(pages[url]))
        if response.status_code == 200:
            pages[url + " (sent empty)"] = response.content.decode()
    assert len([url for url, html in pages.items() if html]) > 10
    # Each problem once, with the first page that shows it and how many do.
    found: dict[str, list[str]] = {}
    for url, html in pages.items():
        for problem in dict.fromkeys(problems(html, world["typed"]) if html else []):
            found.setdefault(problem, []).append(url)
    report = "\n".join(
        f"{problem} on {urls[0]} (+{len(urls) - 1} more)" for problem, urls in found.items()
    )
    assert not found, "\n" + report


# A date as the English admin writes it everywhere: "6 December 2026" or "6 December 2026, 11:05".
OTHER_DATE_FORMATS = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.? \d"  # Dec. 6
    r"|\b[ap]\.m\.|\bmidnight\b|\bnoon\b"  # 11:21 a.m.
    r"|\b\d{4}-\d\d-\d\d[ T]\d\d:\d\d"  # 2026-12-06 14:09:14.066749+00:00
)


def test_every_english_admin_page_writes_dates_one_way(world):
    client = Client(raise_request_exception=False)
    client.force_login(world["users"]["superuser"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    pages = crawl(client, admin_pages(world["users"]["superuser"]))
    found = {}
    for url, html in pages.items():
        text = " ".join(
            re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)).split()
        )
        for match in OTHER_DATE_FORMATS.finditer(text):
            found.setdefault(text[max(0, match.start() - 30) : match.end() + 10], url)
    assert not found, "\n".join(f"{text!r} on {url}" for text, url in found.items())


def test_the_admins_script_catalogue_is_persian(client, world):
    """The widgets' own words (choose all, remove, today, now) come from the script catalogue."""
    client.force_login(world["users"]["superuser"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    script = client.get(reverse("admin:jsi18n")).content.decode()
    for english in ("Choose all %s", "Remove selected %s", "(click to clear)", "Today", "Now"):
        assert f'"{english}": "' in script, english


def test_the_crawler_finds_english_digits_and_gregorian_months():
    html = (
        "<html lang='fa'><body><p>۶ دسامبر 2026</p><p lang='en'>Fine</p>"
        "<p>Dec. 6</p><p>Please correct</p><p>a@b.org https://x.org/1</p></body></html>"
    )
    found = problems(html, typed=[])
    assert "Latin digits: '2026'" in found
    assert "Gregorian month: 'دسامبر'" in found
    assert "Gregorian month: 'Dec.'" in found
    assert "English: 'Please'" in found
    assert not any("Fine" in f or "org" in f for f in found)


def test_the_crawler_sees_every_role_group():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Moderators", "Organisers"}

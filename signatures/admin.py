import datetime
import json
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_countries import countries

from lib import audit, cache
from lib.admin import (
    CalendarAdminMixin,
    NoAddOrEditMixin,
    NormalisedSearchMixin,
    ReadOnlyAdmin,
    admin_path,
    local_datetime,
    local_number,
    source_label,
)
from lib.models import AuditEntry
from lib.normalise import canonical_email
from lib.persian import clean_text, collation_key
from petitions.models import Cosponsor, Petition, Update

from . import paper
from .models import BlockedAttempt, PaperBatch, Signature, SignatureCount

# Below this many rows an exact count is cheap; above it the admin shows the planner's estimate.
EXACT_COUNT_LIMIT = 20_000

# A paper batch given as a number: more than any pile of sheets, less than a typing slip's zeros.
PAPER_MOST_COUNT = 1_000_000
PAPER_SALT = "signatures.paper-batch"
# Between checking a batch and entering it.
PAPER_CHECK_SECONDS = 60 * 60

# A search that is a whole email address (not "@example.com", which finds a domain).
FULL_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
COUNTRY_FILTER_SECONDS = 10 * 60
# Enough to tell the petitions apart in a column that leaves room for the rest at 1366 px.
PETITION_LABEL_CHARS = 32
# What each of the queryset's moderation methods reports.
DONE = {
    "invalidate": lambda n: ngettext(
        "Invalidated %(n)s signature.", "Invalidated %(n)s signatures.", n
    ),
    "restore": lambda n: ngettext("Restored %(n)s signature.", "Restored %(n)s signatures.", n),
    "erase": lambda n: ngettext("Deleted %(n)s signature.", "Deleted %(n)s signatures.", n),
}


class EstimatedCountPaginator(Paginator):
    """The admin counts every matching row on every page view: a sequential scan per click on
    millions of signatures. The planner's estimate instead, unless it is small."""

    @cached_property
    def count(self):
        if connection.vendor != "postgresql":
            return super().count
        sql, params = self.object_list.values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        return super().count if estimate < EXACT_COUNT_LIMIT else estimate


class OccurringCountryFilter(admin.SimpleListFilter):
    """Only the countries signers came from; finding them reads every row, so the list is cached."""

    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        codes = cache.get(cache.ADMIN_COUNTRIES_KEY)
        if codes is None:
            codes = sorted(
                Signature.objects.order_by().values_list("country", flat=True).distinct()
            )
            cache.set(cache.ADMIN_COUNTRIES_KEY, codes, COUNTRY_FILTER_SECONDS)
        named = [(code, countries.name(code) or code) for code in codes]
        return sorted(named, key=lambda pair: collation_key(pair[1]))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(country=self.value())
        return queryset


# The petition's letters and summaries are most of its row: the list shows only a short title.
PETITION_HEAVY_FIELDS = tuple(
    f"petition__{name}_{code}" for name in ("letter", "summary") for code in ("en", "fa")
)


def reason_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Reason shown to the public"),
        choices=Signature.Reason.choices,
        initial=Signature.Reason.OTHER,
        required=False,  # "other" when none is chosen
        help_text=_("On the signer's receipt and the petition's public record of the count."),
    )


def public_reason(data) -> str:
    """The category chosen beside the changelist's actions; "other" when none came."""
    category = data.get("category", "")
    return category if category in Signature.Reason.values else Signature.Reason.OTHER


class ModerationActionForm(ActionForm):
    """The changelist's action bar, with the public reason that "Invalidate" records."""

    category = forms.ChoiceField(
        label=_("Reason shown to the public"),
        choices=Signature.Reason.choices,
        initial=Signature.Reason.OTHER,
        required=False,
    )


@admin.register(Signature)
class SignatureAdmin(NoAddOrEditMixin, NormalisedSearchMixin, CalendarAdminMixin, admin.ModelAdmin):
    # What fits a moderator's 1366 px; the full record is one click away.
    list_display = (
        "name",
        "email",
        "petition_label",
        "country_name",
        "locality",
        "status",
        "created_at",
    )
    list_filter = (
        "status",
        "created_at",
        "petition",
        OccurringCountryFilter,
        "language",
        "rate_checked",
    )
    # Searching "@example.com" finds a whole email domain; the canonical form ignores case.
    search_fields = ("name", "email_canonical", "locality")
    search_help_text = _("Name, email, email domain (as @example.com) or city.")
    list_select_related = ("petition",)
    list_per_page = 50
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # Facet counts would count every matching row once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    ordering = ("-created_at",)
    # What the signer typed is theirs (no adding or editing): moderators change only the status.
    actions = ("invalidate", "restore", "erase")
    action_form = ModerationActionForm
    fields = (
        ("name", "email"),
        ("petition_link", "status"),
        ("country", "locality"),
        "comment",
        ("show_name", "consent_contact"),
        ("language", "source_shown"),
        ("created_at", "confirmed_at", "emailed_at"),
        ("counted_at", "changed_at", "removal_reason"),
        ("email_canonical", "ip_hash", "rate_checked"),
    )
    readonly_fields = [
        *(field.name for field in Signature._meta.fields),
        "petition_link",
        "source_shown",
    ]
    change_list_template = "admin/signatures/signature/change_list.html"
    change_form_template = "admin/signatures/signature/change_form.html"

    class Media:
        css = {"all": ("admin-extra/signature-admin.css",)}

    def get_queryset(self, request):
        return super().get_queryset(request).defer("comment", *PETITION_HEAVY_FIELDS)

    def get_search_results(self, request, queryset, search_term):
        # The email index, rather than matching every row's name, email and city.
        email = canonical_email(search_term)
        if FULL_ADDRESS.fullmatch(email):
            return queryset.filter(email_canonical=email), False
        return super().get_search_results(request, queryset, search_term)

    # django-countries' choices translate all 250 countries anew for every cell; .name is a lookup.
    @admin.display(description=_("country"), ordering="country")
    def country_name(self, obj):
        return obj.country.name

    @admin.display(description=_("petition"), ordering="petition__title_en")
    def petition_label(self, obj):
        title = str(obj.petition)  # in the reader's language
        return format_html(
            '<span class="petition-label" title="{}">{}</span>',
            title,
            Truncator(title).chars(PETITION_LABEL_CHARS),
        )

    @admin.display(description=_("source"))
    def source_shown(self, obj):
        return source_label(obj.source)

    @admin.display(description=_("petition"))
    def petition_link(self, obj):
        title = str(obj.petition)  # in the reader's language
        url = reverse("admin:petitions_petition_change", args=[obj.petition_id])
        return format_html('<a href="{}">{}</a>', url, title)

    def has_moderate_permission(self, request):
        return request.user.has_perm("signatures.moderate_signature")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by `erase`, which keeps counts exact
        return actions

    @admin.action(
        description=_("Invalidate (spam or fraud): stop counting"), permissions=["moderate"]
    )
    def invalidate(self, request, queryset):
        self._act(request, queryset, "invalidate", reason=public_reason(request.POST))

    @admin.action(description=_("Restore: count again"), permissions=["moderate"])
    def restore(self, request, queryset):
        self._act(request, queryset, "restore")

    @admin.action(description=_("Delete for good"), permissions=["delete"])
    def erase(self, request, queryset):
        self._act(request, queryset, "erase")

    def _act(self, request, queryset, verb: str, **options):
        changed = getattr(queryset, verb)(by=request.user, **options)
        total = sum(changed.values())
        self.message_user(request, DONE[verb](total) % {"n": local_number(total)})

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        totals = SignatureCount.objects.totals_for(Petition.objects.values_list("pk", flat=True))
        extra_context["petition_counts"] = [
            (petition, totals.get(petition.pk, 0))
            for petition in Petition.objects.public().only("slug", "title_en", "title_fa")
        ]
        extra_context["can_moderate"] = self.has_moderate_permission(request)
        extra_context["can_erase"] = self.has_delete_permission(request)
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            admin_path(self, "bulk-invalidate/", self.bulk_invalidate_view, "bulk_invalidate"),
            admin_path(self, "<int:pk>/invalidate/", self.invalidate_one_view, "invalidate_one"),
            admin_path(self, "erase-signer/", self.erase_signer_view, "erase_signer"),
            *super().get_urls(),
        ]

    def bulk_invalidate_view(self, request):
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        form = BulkInvalidateForm(request.POST or request.GET or None)
        return self._preview_then_act(
            request,
            form,
            matching=lambda: form.matching().exclude(status=Signature.Status.INVALIDATED),
            act=lambda queryset: self._act(
                request,
                queryset,
                "invalidate",
                detail=form.describe(),
                bulk=True,
                reason=form.cleaned_data["category"],
            ),
            title=_("Invalidate a burst of signatures"),
            template="admin/signatures/bulk_invalidate.html",
        )

    @method_decorator(require_POST)
    def invalidate_one_view(self, request, pk):
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        form = ReasonForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Say why, for the audit trail."), messages.ERROR)
        else:
            queryset = Signature.objects.filter(pk=pk)
            if request.POST.get("restore"):
                self._act(request, queryset, "restore", detail=form.cleaned_data["reason"])
            else:
                self._act(
                    request,
                    queryset,
                    "invalidate",
                    detail=form.cleaned_data["reason"],
                    reason=form.cleaned_data["category"],
                )
        return redirect("admin:signatures_signature_change", pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_moderate"] = self.has_moderate_permission(request)
        extra_context["reason_form"] = ReasonForm()
        return super().change_view(request, object_id, form_url, extra_context)

    def erase_signer_view(self, request):
        if not self.has_delete_permission(request):
            raise PermissionDenied
        form = EraseSignerForm(request.POST or None)

        def started():
            return Petition.objects.started_by(form.cleaned_data["email"])

        def erase(queryset):
            # The record never says who: keeping the address would undo the erasure.
            deleted, kept = started().forget_starter(by=request.user)
            Cosponsor.objects.forget(form.cleaned_data["email"])
            if deleted or kept:
                self.message_user(
                    request,
                    _(
                        "Petitions started with this address: %(deleted)s unpublished deleted, "
                        "%(kept)s public kept without the address."
                    )
                    % {"deleted": local_number(deleted), "kept": local_number(kept)},
                )
            self._act(request, queryset, "erase", signer_request=True)

        return self._preview_then_act(
            request,
            form,
            matching=lambda: Signature.objects.filter(email_canonical=form.cleaned_data["email"]),
            act=erase,
            title=_("Delete a signer's data on request"),
            template="admin/signatures/erase_signer.html",
            found=lambda: {
                "started": list(started().only("slug", "title_en", "title_fa", "status"))
            },
        )

    def _preview_then_act(self, request, form, *, matching, act, title, template, found=dict):
        """Say how many rows match, then act only on a POST that confirms."""
        matches = None
        extra = {}
        if form.is_bound and form.is_valid():
            queryset = matching()
            matches = queryset.count()
            extra = found()
            if request.method == "POST" and request.POST.get("confirm") == "yes":
                act(queryset)
                return redirect("admin:signatures_signature_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "matches": matches,
            "opts": self.model._meta,
            **extra,
        }
        return TemplateResponse(request, template, context)


class BulkInvalidateForm(forms.Form):
    petition = forms.ModelChoiceField(
        Petition.objects.all(), label=_("petition"), required=False, empty_label=_("All petitions")
    )
    email_domain = forms.CharField(label=_("Email domain"), required=False)
    ip_hash = forms.CharField(label=_("IP hash"), required=False, max_length=64)
    since = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    category = reason_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A domain is a name, not a word of either language.
        self.fields["email_domain"].help_text = format_html(
            '{} <code lang="zxx">spam.example</code>', _("For example:")
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email_domain") and not cleaned.get("ip_hash"):
            raise forms.ValidationError(_("Give an email domain or an IP hash."))
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until <= since:
            raise forms.ValidationError(_("The window must end after it starts."))
        if since and until and until - since > datetime.timedelta(days=31):
            raise forms.ValidationError(_("Keep the window to a month at most."))
        return cleaned

    def matching(self):
        data = self.cleaned_data
        queryset = Signature.objects.filter(
            created_at__gte=data["since"], created_at__lt=data["until"]
        )
        if data.get("petition"):
            queryset = queryset.filter(petition=data["petition"])
        if data.get("email_domain"):
            queryset = queryset.email_domain(data["email_domain"].strip())
        if data.get("ip_hash"):
            queryset = queryset.filter(ip_hash=data["ip_hash"].strip())
        return queryset

    def describe(self) -> str:
        data = self.cleaned_data
        parts = [f"{data['since']:%Y-%m-%d %H:%M}–{data['until']:%Y-%m-%d %H:%M}"]
        if data.get("email_domain"):
            parts.append(f"domain={data['email_domain']}")
        if data.get("ip_hash"):
            parts.append(f"ip_hash={data['ip_hash']}")
        return " ".join(parts)


class ReasonForm(forms.Form):
    category = reason_field()
    reason = forms.CharField(
        label=_("Reason"),
        max_length=audit.NOTE_LENGTH,
        help_text=_("Kept in the audit trail, e.g. “same person, third address”."),
    )


class EraseSignerForm(forms.Form):
    email = forms.CharField(label=_("Signer's email"), max_length=254)

    def clean_email(self):
        return canonical_email(self.cleaned_data["email"])


@admin.register(BlockedAttempt)
class BlockedAttemptAdmin(ReadOnlyAdmin):
    list_display = ("minute", "petition", "reason", "ip_hash", "attempts")
    list_filter = ("reason", "petition", "minute")
    search_fields = ("ip_hash",)
    list_select_related = ("petition",)


# How each kind of detail reads, in the order written; a moderator's note is shown as typed.
EXPORT_FORMATS = {"csv": "CSV", "jsonl": "JSON Lines", "pdf": "PDF"}
AUDIT_DETAIL = {
    "signatures": lambda n: (
        ngettext("%(n)s signature", "%(n)s signatures", n) % {"n": local_number(n)}
    ),
    "recipients": lambda n: (
        ngettext("emailing %(n)s signer", "emailing %(n)s signers", n) % {"n": local_number(n)}
    ),
    "cap_overridden": lambda on: _("pause between emails overridden") if on else "",
    "emails": lambda n: ngettext("%(n)s email", "%(n)s emails", n) % {"n": local_number(n)},
    "pack": lambda pk: _("delivery pack %(n)s") % {"n": local_number(pk)},
    "names": lambda n: ngettext("%(n)s name", "%(n)s names", n) % {"n": local_number(n)},
    "deleted": lambda n: (
        ngettext("%(n)s unpublished petition deleted", "%(n)s unpublished petitions deleted", n)
        % {"n": local_number(n)}
    ),
    "kind": lambda kind: EXPORT_FORMATS.get(kind, kind),
    "format": lambda fmt: EXPORT_FORMATS.get(fmt, fmt),
    "status": lambda status: (
        _("only: %(status)s")
        % {"status": Signature.Status(status).label if status in Signature.Status else status}
    ),
    "since": lambda since: (
        _("since %(when)s") % {"when": local_datetime(datetime.datetime.fromisoformat(since))}
    ),
    "interrupted": lambda on: _("interrupted") if on else "",
    "petitions": lambda slugs: format_html(
        '{} <bdi dir="ltr">{}</bdi>', _("petitions:"), ", ".join(slugs)
    ),
    "fields": lambda names: ", ".join(
        str(Petition._meta.get_field(name).verbose_name) for name in names
    ),
    "reason": Petition.RejectionReason.label_of,
    "closed_because": lambda code: (
        Petition.ClosedReason(code).label if code in Petition.ClosedReason else code
    ),
    "status_edited": lambda on: _("by editing its status") if on else "",
    "threshold": lambda n: (
        ngettext("at %(n)s signature", "at %(n)s signatures", n) % {"n": local_number(n)}
    ),
    "count": lambda n: _("count %(n)s") % {"n": local_number(n)},
    "consequence_en": lambda text: format_html('<span lang="en" dir="ltr">{}</span>', text),
    "consequence_fa": lambda text: format_html('<span lang="fa" dir="rtl">{}</span>', text),
    "note": lambda note: format_html('<span dir="auto">{}</span>', note),
    "milestone": lambda kind: Update.Milestone(kind).label if kind in Update.Milestone else kind,
    "number": lambda n: local_number(n) if n is not None else "",
    "paper_batch": lambda pk: _("paper batch %(n)s") % {"n": local_number(pk)},
    "entered_as": lambda kind: (
        PaperBatch.Kind(kind).label if kind in PaperBatch.Kind.values else kind
    ),
    "duplicates": lambda n: (
        ngettext("%(n)s duplicate not counted", "%(n)s duplicates not counted", n)
        % {"n": local_number(n)}
        if n
        else ""
    ),
    "invalid": lambda n: (
        ngettext("%(n)s invalid row", "%(n)s invalid rows", n) % {"n": local_number(n)} if n else ""
    ),
}


def audit_detail(detail: dict) -> str:
    shown = (
        AUDIT_DETAIL[key](value) if key in AUDIT_DETAIL else f"{key}: {value}"
        for key, value in detail.items()
    )
    return format_html_join(" · ", "{}", ((part,) for part in shown if part)) or "—"


@admin.register(AuditEntry)
class AuditEntryAdmin(NormalisedSearchMixin, ReadOnlyAdmin):
    list_display = ("created_at", "actor_shown", "action", "target_shown", "detail_shown")
    list_filter = ("action", "created_at")
    search_fields = ("target_label", "actor_label")
    search_help_text = _("The petition's or update's title when it happened, or who did it.")
    fields = ("created_at", "actor_shown", "action", "target_shown", "detail_shown")
    readonly_fields = fields
    show_facets = admin.ShowFacets.NEVER

    class Media:
        css = {"all": ("admin-extra/audit-admin.css",)}

    @admin.display(description=_("who"), ordering="actor_label")
    def actor_shown(self, obj):
        # The periodic pass and the milestones it sends act as "system", in the reader's words.
        if obj.actor_id is None and obj.actor_label == "system":
            return _("the system")
        return format_html("<bdi>{}</bdi>", obj.actor_label)

    @admin.display(description=_("about"), ordering="target_label")
    def target_shown(self, obj):
        if not obj.target_type_id:
            return "—"
        if not obj.target_label:
            return _("(its words erased on request)")
        kind = ContentType.objects.get_for_id(obj.target_type_id)
        try:
            url = reverse(f"admin:{kind.app_label}_{kind.model}_change", args=[obj.target_id])
        except NoReverseMatch:
            return format_html("<bdi>{}</bdi>", obj.target_label)
        return format_html('<a href="{}"><bdi>{}</bdi></a>', url, obj.target_label)

    @admin.display(description=_("detail"))
    def detail_shown(self, obj):
        return audit_detail(obj.detail)


class PaperBatchForm(forms.Form):
    """A batch of paper signatures: a number, or a CSV of rows. Checked first, entered on a
    second POST that carries what was checked, signed, so that the file is not sent twice."""

    petition = forms.ModelChoiceField(
        Petition.objects.public().only("pk", "slug", "title_en", "title_fa"),
        label=_("petition"),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=PaperBatch._meta.get_field("description").max_length,
        help_text=_(
            "Where and when they were collected, e.g. “collected at the Tehran book fair”. Shown "
            "on the public record of the count: never anyone’s name."
        ),
    )
    count = forms.IntegerField(
        label=_("Number of signatures"),
        min_value=1,
        max_value=PAPER_MOST_COUNT,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "dir": "ltr", "size": 10}),
        help_text=_("For a batch given only as a number. Leave it empty to upload rows."),
    )
    rows = forms.FileField(
        label=_("CSV file of rows"),
        required=False,
        help_text=_(
            "One signer a row: name, email (may be empty), country (a code such as IR, or its "
            "name). A first row of headings is read if there is one."
        ),
    )

    def clean_description(self):
        return clean_text(self.cleaned_data["description"])

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("count")) == bool(cleaned.get("rows")):
            raise forms.ValidationError(
                _("Give either a number of signatures or a CSV file, not both.")
            )
        return cleaned


class PaperBatchStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("counted", _("In the count")), ("removed", _("Removed"))]

    def queryset(self, request, queryset):
        if self.value() == "counted":
            return queryset.filter(removed_at__isnull=True)
        if self.value() == "removed":
            return queryset.filter(removed_at__isnull=False)
        return queryset


@admin.register(PaperBatch)
class PaperBatchAdmin(CalendarAdminMixin, admin.ModelAdmin):
    list_display = (
        "description",
        "petition_title",
        "kind",
        "counted",
        "entered_at",
        "entered_by",
        "removed_at",
    )
    list_filter = ("kind", PaperBatchStateFilter)
    list_select_related = ("petition", "entered_by")
    search_fields = ("description", "petition__slug", "petition__title_en", "petition__title_fa")
    fields = (
        "petition",
        "kind",
        "description",
        "count",
        "entered_at",
        "entered_by",
        "removed_at",
        "removed_by",
        "what_was_read",
    )
    readonly_fields = fields
    ROWS_SHOWN = 200

    @admin.display(description=_("petition"), ordering="petition__slug")
    def petition_title(self, batch):
        return Truncator(str(batch.petition)).chars(PETITION_LABEL_CHARS)

    @admin.display(description=_("signatures counted"), ordering="count")
    def counted(self, batch):
        return local_number(batch.count)

    @admin.display(description=_("What was read"))
    def what_was_read(self, batch):
        if batch.kind != PaperBatch.Kind.ROWS:
            return "—"
        report = batch.report or {}
        rows = list(batch.rows.all()[: self.ROWS_SHOWN])
        context = {
            "report": report_lines(report),
            "rows": rows,
            "more": max(batch.count - len(rows), 0) if batch.removed_at is None else 0,
            "removed": batch.removed_at is not None,
        }
        return render_to_string("admin/signatures/_paper_report.html", context)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.removed_at is None)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, each with its own record line
        return actions

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("confirm") == "yes":
            return self._enter(request)
        # From the petition's admin page, which links here with its petition chosen.
        form = PaperBatchForm(
            request.POST or None,
            request.FILES or None,
            initial={"petition": request.GET.get("petition")},
        )
        checked = None
        if form.is_bound and form.is_valid():
            checked = self._check(form)
            if checked.get("error"):
                form.add_error("rows", checked["error"])
                checked = None
        return self._entry_page(request, form, checked)

    def _check(self, form) -> dict:
        data = form.cleaned_data
        petition = data["petition"]
        carried = {"petition": petition.pk, "description": data["description"]}
        if data.get("count"):
            carried["count"] = data["count"]
            return {
                "petition": petition,
                "count": data["count"],
                "payload": signing.dumps(carried, salt=PAPER_SALT, compress=True),
            }
        raw = data["rows"].read()
        try:
            reading = paper.read_csv(petition, raw)
        except paper.Unreadable as exc:
            return {"error": str(exc)}
        carried["csv"] = paper.decoded(raw)
        return {
            "petition": petition,
            "reading": reading,
            "report": report_lines(reading.report()),
            "accepted": reading.accepted[: self.ROWS_SHOWN],
            "payload": signing.dumps(carried, salt=PAPER_SALT, compress=True),
        }

    def _enter(self, request):
        try:
            carried = signing.loads(
                request.POST.get("payload", ""), salt=PAPER_SALT, max_age=PAPER_CHECK_SECONDS
            )
        except signing.BadSignature:
            self.message_user(
                request, _("That check has expired: please check the batch again."), messages.ERROR
            )
            return redirect("admin:signatures_paperbatch_add")
        petition = Petition.objects.public().filter(pk=carried["petition"]).first()
        if petition is None:
            raise PermissionDenied
        if "count" in carried:
            batch = paper.enter_count(
                petition,
                count=carried["count"],
                description=carried["description"],
                by=request.user,
            )
        else:
            batch, _reading = paper.enter_rows(
                petition,
                data=carried["csv"].encode(),
                description=carried["description"],
                by=request.user,
            )
            if batch is None:
                self.message_user(
                    request,
                    _("No row could be counted: every one was a duplicate or invalid."),
                    messages.ERROR,
                )
                return redirect("admin:signatures_paperbatch_add")
        self.message_user(
            request,
            ngettext(
                "%(n)s paper signature added to the count.",
                "%(n)s paper signatures added to the count.",
                batch.count,
            )
            % {"n": local_number(batch.count)},
            messages.SUCCESS,
        )
        return redirect("admin:signatures_paperbatch_change", batch.pk)

    def _entry_page(self, request, form, checked):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Enter paper signatures"),
            "form": form,
            "checked": checked,
            "opts": self.model._meta,
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, "admin/signatures/paper_batch_entry.html", context)

    def delete_view(self, request, object_id, extra_context=None):
        """Removing keeps the batch (the record's line) and takes its number off the count."""
        batch = self.get_object(request, object_id)
        if batch is None:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if not self.has_delete_permission(request, batch):
            raise PermissionDenied
        if request.method == "POST":
            if paper.remove(batch, by=request.user):
                self.message_user(
                    request,
                    ngettext(
                        "Batch removed: %(n)s signature taken off the count.",
                        "Batch removed: %(n)s signatures taken off the count.",
                        batch.count,
                    )
                    % {"n": local_number(batch.count)},
                    messages.SUCCESS,
                )
            return redirect("admin:signatures_paperbatch_change", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Remove this paper batch?"),
            "batch": batch,
            "opts": self.model._meta,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/signatures/paper_batch_remove.html", context)


def report_lines(report: dict) -> dict:
    """What reading a CSV found, in the reader's language and digits, row numbers included."""
    return {
        "rows": report.get("rows", 0),
        "duplicates": [
            (local_number(row), paper.explain_duplicate(code, earlier and local_number(earlier)))
            for row, code, earlier in report.get("duplicates", [])
        ],
        "invalid": [
            (local_number(row), paper.explain_problem(code))
            for row, code in report.get("invalid", [])
        ],
    }

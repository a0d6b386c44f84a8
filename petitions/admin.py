import hashlib

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape, format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from lib import audit
from lib.admin import (
    CalendarAdminMixin,
    NoAddOrEditMixin,
    NormalisedSearchMixin,
    PermissionGatedMixin,
    ReadOnlyAdmin,
    admin_path,
    datetime_column,
    local_datetime,
    local_number,
    local_percent,
    number_column,
    source_label,
)
from lib.models import AuditEntry
from lib.persian import clean_text, diff_html, tidy_persian
from signatures.export import Export
from signatures.models import Signature, SignatureCount

from . import cosponsors, delivery, mailing, milestones, moderation, thresholds
from .models import (
    LANGUAGE_CODES,
    TRANSLATED_FIELDS,
    Delivery,
    DeliveryPack,
    Petition,
    ReviewQueue,
    SiteThreshold,
    Threshold,
    ThresholdReached,
    Update,
    text_direction,
)
from .snippets import snippets

TEXT_FIELDS = ("addressed_to", *TRANSLATED_FIELDS)
EXPORT_PERMISSION = "signatures.export_signature"


def can_export(request) -> bool:
    return request.user.has_perm(EXPORT_PERMISSION)


FIELD_HELP = {
    "slug": _(
        "The petition's web address: /en/p/<address>/ and /fa/p/<address>/. Latin letters, "
        "digits and hyphens; on a new petition it fills in from the English title as you type."
    ),
    "status": _(
        "Draft: only staff see it. Open: published at once and taking signatures. "
        "Closed: still visible, no longer taking signatures."
    ),
}


class BilingualFields:
    """Each `_en`/`_fa` field typed in its own language and direction."""

    class Media:
        css = {"all": ("admin-extra/petition-admin.css",)}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        language = db_field.name.rsplit("_", 1)[-1]
        if field is not None and language in LANGUAGE_CODES:
            # Also the spell-checker's language and a screen reader's voice.
            field.widget.attrs.update({"lang": language, "dir": text_direction(language)})
            if isinstance(db_field, models.TextField):
                field.widget.attrs.setdefault(
                    "rows", 14 if db_field.name.startswith(("letter", "body")) else 5
                )
        return field


class PetitionAdminForm(forms.ModelForm):
    """Refuses a save when someone else changed the petition since the form was shown."""

    read_version = forms.CharField(
        label=_("version you read"), widget=forms.HiddenInput, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["read_version"].initial = self.instance.edit_version

    def clean(self):
        cleaned = super().clean()
        read = cleaned.get("read_version")
        if self.instance.pk and read:
            # The admin saves inside a transaction: the lock holds until this save is written.
            current = Petition.objects.select_for_update().filter(pk=self.instance.pk).first()
            if current is not None and current.edit_version != read:
                raise ValidationError(
                    _(
                        "This petition was changed by someone else since you opened it. Open it "
                        "again to see the current text before you save."
                    ),
                    code="changed",
                )
        return cleaned


class OwnThresholdsFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        if kept and not self.instance.own_thresholds:
            raise ValidationError(
                _(
                    "These thresholds apply only if “its own thresholds” is ticked. Tick it, or "
                    "remove them to use the site’s."
                ),
                code="own_thresholds_unticked",
            )


THRESHOLD_FIELDS = (
    "number",
    "consequence_en",
    "consequence_fa",
    "owes_response",
    "deadline_days",
)


class ThresholdInline(BilingualFields, admin.TabularInline):
    model = Threshold
    formset = OwnThresholdsFormSet
    fields = THRESHOLD_FIELDS
    extra = 0
    verbose_name = _("threshold of its own")
    verbose_name_plural = _("its own thresholds")


class ThresholdReachedInline(admin.TabularInline):
    model = ThresholdReached
    fields = ("number_shown", "consequence_en", "consequence_fa", "reached", "deadline", "count")
    readonly_fields = fields
    extra = 0
    can_delete = False
    number_shown = number_column("number", _("signatures"))
    reached = datetime_column(ThresholdReached, "reached_at")
    deadline = datetime_column(ThresholdReached, "respond_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SiteThreshold)
class SiteThresholdAdmin(BilingualFields, admin.ModelAdmin):
    """The list every petition uses unless it has its own."""

    fields = THRESHOLD_FIELDS
    list_display = ("number_shown", "consequence_en", "consequence_fa", "owes_response", "days")
    list_display_links = ("number_shown",)
    number_shown = number_column("number", _("signatures"))
    days = number_column("deadline_days", _("days to respond"))

    def get_queryset(self, request):
        return super().get_queryset(request).filter(petition__isnull=True)


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("reason"),
        choices=[(c.value, c.label) for c in Petition.ClosedReason.BY_MODERATOR],
        widget=forms.RadioSelect,
        help_text=_("Shown on the petition’s page."),
    )
    note = forms.CharField(
        label=_("note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
        help_text=_("For the audit log and other moderators; not shown on the page."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == Petition.ClosedReason.OTHER and not cleaned.get("note"):
            self.add_error("note", _("Explain the reason in the note."))
        return cleaned


@admin.register(Petition)
class PetitionAdmin(NormalisedSearchMixin, CalendarAdminMixin, BilingualFields, admin.ModelAdmin):
    form = PetitionAdminForm
    list_display = (
        "title_en",
        "title_fa",
        "status",
        "original_language",
        "goal_shown",
        "signature_count",
        "opened_at",
    )
    list_display_links = ("title_en", "title_fa")
    list_filter = (
        "status",
        "original_language",
        "single_language",
        "created_at",
    )
    search_fields = ("title_en", "title_fa", "slug")
    prepopulated_fields = {"slug": ("title_en",)}
    readonly_fields = (
        "preview_links",
        "paper_links",
        "created",
        "updated",
        "signatures_by_source",
        "embed_snippets",
        "retention",
        "hold",
        "closed_when",
        "closed_reason",
        "closed_note",
    )
    goal_shown = number_column("goal", _("goal"))
    closed_when = datetime_column(Petition, "closed_at")
    created = datetime_column(Petition, "created_at")
    updated = datetime_column(Petition, "updated_at")
    fieldsets = (
        (None, {"fields": ("status", "slug", "preview_links", "paper_links", "read_version")}),
        (
            _("Who and to whom"),
            {
                "fields": (
                    ("starter_name", "starter_name_fa"),
                    ("addressed_to_en", "addressed_to_fa"),
                )
            },
        ),
        (
            _("Text in English and Persian"),
            {
                "classes": ("bilingual",),
                "fields": (
                    ("original_language", "single_language"),
                    ("title_en", "title_fa"),
                    ("summary_en", "summary_fa"),
                    ("letter_en", "letter_fa"),
                ),
            },
        ),
        (
            _("Goal, signing and dates"),
            {
                "fields": (
                    "goal",
                    "requires_confirmation",
                    "opened_at",
                    "closes_at",
                    ("created", "updated"),
                )
            },
        ),
        (
            _("Embedding and sources"),
            {"fields": ("embed_snippets", "embed_sites", "signatures_by_source")},
        ),
        (_("Signers’ privacy"), {"fields": ("signer_list",)}),
        (_("Keeping signers’ data"), {"fields": ("retention", "hold_reason", "hold")}),
        (_("Thresholds"), {"fields": ("own_thresholds",)}),
        (
            _("Closing"),
            {"fields": ("closed_when", "closed_reason", "closed_note")},
        ),
        (
            _("Response and outcome"),
            {
                "classes": ("bilingual",),
                "fields": (
                    ("outcome", "outcome_date"),
                    ("response_en", "response_fa"),
                    ("response_date", "response_url"),
                ),
            },
        ),
    )

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = (ThresholdInline, ThresholdReachedInline)
    actions = ("export_csv", "export_jsonl", "make_delivery_pack")
    change_form_template = "admin/petitions/petition/change_form.html"

    class Media(BilingualFields.Media):
        js = ("admin-extra/embed-snippets.js",)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name == "hold_reason":
            field.widget.attrs["dir"] = "auto"  # written in either language
        if field is not None and db_field.name in FIELD_HELP:
            # The admin prints help text as HTML; "<address>" is meant as text.
            field.help_text = escape(FIELD_HELP[db_field.name])
        return field

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        # A reader who cannot save has no version to send back.
        first, options = fieldsets[0]
        kept = tuple(name for name in options["fields"] if name != "read_version")
        return [(first, {**options, "fields": kept}), *fieldsets[1:]]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not request.user.has_perm("petitions.change_threshold"):
            # Thresholds are the site's promises: whoever may not edit them may not opt out.
            fields = (*fields, "own_thresholds")
        unpublished = (*Petition.Status.EDITABLE, Petition.Status.GATHERING)
        if obj is not None and obj.is_started_by_public and obj.status in unpublished:
            # Published or sent back only by a moderator's decision, which is audited and
            # emailed to the starter (the review queue), never by editing the status here.
            return (*fields, "status")
        return fields

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(signature_total=SignatureCount.total_subquery())
        )

    @admin.display(description=_("signatures"), ordering="signature_total")
    def signature_count(self, obj):
        return local_number(obj.signature_total or 0)

    def _preview(self, request, obj):
        if "_preview" in request.POST:
            return redirect(obj.url_in(translation.get_language()))
        return None

    def response_add(self, request, obj, post_url_continue=None):
        return self._preview(request, obj) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._preview(request, obj) or super().response_change(request, obj)

    def save_model(self, request, obj, form, change):
        was_open = change and form.initial.get("status") == Petition.Status.OPEN
        closing = obj.status == Petition.Status.CLOSED and form.initial.get("status") != obj.status
        if closing:
            obj.closed_reason = obj.closed_reason or Petition.ClosedReason.OTHER
        answer = ("outcome", "response_en", "response_fa")
        # As stored, not as the form's initial values say: what the signers may already know.
        before = Petition.objects.filter(pk=obj.pk).values(*answer).first() if change else None
        super().save_model(request, obj, form, change)
        if "hold_reason" in form.changed_data:
            # Who and when, with its audit entry, in the admin's transaction.
            obj.set_hold(obj.hold_reason, by=request.user)
        if closing:
            audit.record(
                request.user,
                audit.Action.PETITION_CLOSED,
                obj,
                closed_because=obj.closed_reason,
                status_edited=True,
            )
            milestones.closed(obj, by=request.user)
        if before is not None:
            # The first response, and each new outcome, is emailed once (petitions/milestones.py).
            changed = {name for name in answer if getattr(obj, name) != before[name]}
            milestones.answered(obj, changed, by=request.user)
        if obj.status == Petition.Status.OPEN and not was_open:
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Published: the petition is public and taking signatures."),
                    obj.url_in(translation.get_language()),
                    _("See it"),
                ),
                messages.WARNING,
            )

    @admin.display(description=_("retention"))
    def retention(self, obj):
        days = local_number(settings.SIGNATURE_RETENTION_DAYS)
        if obj.signers_anonymised_at:
            return _("Signers’ data anonymised on %(date)s.") % {
                "date": local_datetime(obj.signers_anonymised_at)
            }
        due = obj.signers_anonymised_on if obj.pk else None
        if due is None:
            return _(
                "Signers’ names and emails are anonymised %(days)s days after the petition closes."
            ) % {"days": days}
        return _(
            "Closed; signers’ names and emails are anonymised on %(date)s (%(days)s days after "
            "closing), unless held."
        ) % {"date": local_datetime(due), "days": days}

    @admin.display(description=_("hold"))
    def hold(self, obj):
        if not obj.hold_at:
            return _("No hold: anonymised when due.")
        # The username isolated, so that a Latin name keeps its place in a Persian sentence.
        return format_html(
            escape(_("Held by %(who)s since %(date)s.")).replace("%(who)s", "<bdi>{}</bdi>")
            % {"date": escape(local_datetime(obj.hold_at))},
            obj.hold_by.get_username() if obj.hold_by else "—",
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Its own thresholds are saved only now; a count already past one is recorded at once.
        thresholds.record_reached(Petition.objects.filter(pk=form.instance.pk), by=request.user)

    @admin.display(description=_("preview"))
    def preview_links(self, obj):
        if not obj.pk:
            return _("Save the petition to preview it.")
        return format_html_join(
            " · ",
            '<a href="{}" lang="{}" target="_blank" rel="noopener">{}</a>',
            (
                (obj.url_in(code), code, label)
                for code, label in (("en", "English"), ("fa", "فارسی"))
            ),
        ) + format_html(
            " <small>{}</small>",
            _("Drafts are visible only to staff.") if obj.status == Petition.Status.DRAFT else "",
        )

    @admin.display(description=_("signatures on paper"))
    def paper_links(self, obj):
        """The sheet to print, in each language, and where a moderator enters what came back."""
        if not obj.pk or not obj.is_public:
            return _("Once the petition is published: a sheet to print and collect signatures.")
        sheets = format_html_join(
            " · ",
            '<a href="{}" lang="{}" type="application/pdf">{}</a>',
            (
                (obj.sheet_url_in(code), code, label)
                for code, label in (("en", "English"), ("fa", "فارسی"))
                if code in obj.languages
            ),
        )
        enter = reverse("admin:signatures_paperbatch_add") + f"?petition={obj.pk}"
        return format_html(
            '{} {} · <a href="{}">{}</a>',
            _("Signature sheet (PDF):"),
            sheets,
            enter,
            _("Enter paper signatures"),
        )

    @admin.display(description=_("embed it on another site"))
    def embed_snippets(self, obj):
        if not obj.pk:
            return _("Save the petition to get the code that shows it on other sites.")
        return render_to_string("petitions/_embed_snippets.html", {"snippets": snippets(obj)})

    @admin.display(description=_("signatures by source"))
    def signatures_by_source(self, obj):
        if not obj.pk:
            return "—"
        rows = (
            Signature.objects.filter(petition=obj)
            .values("source")
            .annotate(
                total=Count("pk"),
                counted=Count("pk", filter=Q(status=Signature.Status.COUNTED)),
            )
            .order_by("-total", "source")
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    source_label(row["source"]),
                    local_number(row["counted"]),
                    local_number(row["total"]),
                )
                for row in rows
            ),
        )
        if not body:
            return _("No signatures yet.")
        return format_html(
            '<table class="source-counts"><thead><tr><th scope="col">{}</th><th scope="col">{}</th>'
            '<th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
            _("source"),
            _("counted"),
            _("all"),
            body,
        )

    def has_export_permission(self, request):
        return can_export(request)

    @admin.action(description=_("Export signatures (CSV)"), permissions=["export"])
    def export_csv(self, request, queryset):
        return export_response(request, queryset.order_by("pk"), "csv")

    @admin.action(description=_("Export signatures (JSON Lines)"), permissions=["export"])
    def export_jsonl(self, request, queryset):
        return export_response(request, queryset.order_by("pk"), "jsonl")

    @admin.action(description=_("Make a delivery pack (PDF and CSV)"), permissions=["export"])
    def make_delivery_pack(self, request, queryset):
        packs = [
            delivery.request_pack(petition, by=request.user) for petition in queryset.order_by("pk")
        ]
        # Without a worker (make run) the pack is made before this line: say so, not "reload".
        made = DeliveryPack.objects.filter(
            pk__in=[pack.pk for pack in packs], status=DeliveryPack.Status.DONE
        ).count()
        if made == len(packs):
            text = ngettext(
                "The delivery pack is ready: download it below.",
                "The delivery packs are ready: download them below.",
                made,
            )
        else:
            text = _(
                "The delivery pack is being made; its progress shows here. Reload to follow it."
            )
        messages.success(request, text)
        return HttpResponseRedirect(reverse("admin:petitions_deliverypack_changelist"))

    def get_urls(self):
        return [
            admin_path(self, "<int:pk>/export/", self.export_view, "export"),
            admin_path(self, "<int:pk>/tidy-persian/", self.tidy_persian_view, "tidy_persian"),
            admin_path(self, "<int:pk>/close/", self.close_view, "close"),
            *super().get_urls(),
        ]

    def export_view(self, request, pk):
        petition = get_object_or_404(Petition, pk=pk)
        fmt = request.GET.get("format", "csv")
        status = request.GET.get("status") or None
        if fmt not in ("csv", "jsonl") or (status and status not in Signature.Status.values):
            raise Http404
        return export_response(request, [petition], fmt, status)

    def tidy_persian_view(self, request, pk):
        """Each Persian field's tidied spacing as a diff to tick; a field edited since the page was
        shown is not overwritten."""
        petition = get_object_or_404(Petition, pk=pk)
        if not self.has_change_permission(request, petition):
            raise PermissionDenied
        proposals = tidy_proposals(petition)
        if request.method == "POST":
            chosen = set(request.POST.getlist("apply"))
            applied = [
                proposal
                for proposal in proposals
                if proposal["field"] in chosen
                and request.POST.get(f"before_{proposal['field']}") == proposal["digest"]
            ]
            for proposal in applied:
                setattr(petition, proposal["field"], proposal["after"])
            if applied:
                fields = [p["field"] for p in applied]
                with transaction.atomic():
                    petition.save(update_fields=[*fields, "updated_at"])
                    audit.record(
                        request.user, audit.Action.PETITION_TIDIED, petition, fields=fields
                    )
                labels = ", ".join(str(p["label"]) for p in applied)
                self.message_user(request, _("Persian spacing tidied: %s.") % labels)
            return redirect("admin:petitions_petition_change", petition.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Tidy Persian spacing"),
            "subtitle": str(petition),
            "original": petition,
            "opts": self.model._meta,
            "proposals": proposals,
        }
        return TemplateResponse(request, "admin/petitions/petition/tidy_persian.html", context)

    def has_close_permission(self, request) -> bool:
        return request.user.has_perm("petitions.moderate_petition")

    def close_view(self, request, pk):
        """A moderator's closing: a reason the page shows and a note for the log."""
        if not self.has_close_permission(request):
            raise PermissionDenied
        petition = get_object_or_404(Petition, pk=pk)
        if petition.status != Petition.Status.OPEN:
            messages.error(request, _("Only an open petition can be closed."))
            return redirect("admin:petitions_petition_change", petition.pk)
        form = CloseForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            with transaction.atomic():
                petition.close(
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
                milestones.closed(petition, by=request.user)
            messages.success(request, _("Closed: the page stays, without the sign form."))
            return redirect("admin:petitions_petition_change", petition.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Close this petition"),
            "subtitle": str(petition),
            "original": petition,
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/petitions/petition/close.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_close"] = self.has_close_permission(request)
        extra_context["can_export"] = self.has_export_permission(request)
        extra_context["signature_statuses"] = Signature.Status.choices
        return super().change_view(request, object_id, form_url, extra_context)


PERSIAN_FIELDS = tuple(f"{name}_fa" for name in TEXT_FIELDS)


def tidy_proposals(petition: Petition) -> list[dict]:
    context = "\n".join(getattr(petition, name) for name in PERSIAN_FIELDS)
    proposals = []
    for name in PERSIAN_FIELDS:
        before = getattr(petition, name)
        after = tidy_persian(before, context=context)
        if after != before:
            proposals.append(
                {
                    "field": name,
                    "label": Petition._meta.get_field(name).verbose_name,
                    "after": after,
                    "diff": diff_html(before, after),
                    "digest": hashlib.sha256(before.encode()).hexdigest(),
                }
            )
    return proposals


def export_response(
    request, petitions, fmt: str, status: str | None = None
) -> StreamingHttpResponse:
    """Stream an export; the Export audits itself when the server closes the response."""
    if not can_export(request):
        raise PermissionDenied
    stream = Export(petitions, fmt, by=request.user, status=status)
    name = stream.petitions[0].slug if len(stream.petitions) == 1 else "signatures"
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(stream, content_type=stream.content_type)
    # A Persian address makes a Persian file name, which needs RFC 6266's filename*.
    response["Content-Disposition"] = content_disposition_header(
        True, f"{name}-{stamp}.{stream.extension}"
    )
    response["Cache-Control"] = "no-store"
    return response


@admin.register(DeliveryPack)
class DeliveryPackAdmin(
    NoAddOrEditMixin, PermissionGatedMixin, CalendarAdminMixin, admin.ModelAdmin
):
    """Packs come from the petitions' action; this list shows their progress and downloads."""

    view_permission = EXPORT_PERMISSION

    list_display = ("petition", "status", "progress", "requested_at", "finished_at", "downloads")
    list_filter = ("status",)
    list_select_related = ("petition",)
    readonly_fields = (
        "petition",
        "status",
        "progress",
        "requested_by",
        "requested_at",
        "finished_at",
        "signatures",
        "root",
        "downloads",
        "error",
    )
    fields = readonly_fields

    def changelist_view(self, request, extra_context=None):
        # The list reloads itself while a pack is being made.
        unfinished = (DeliveryPack.Status.QUEUED, DeliveryPack.Status.RUNNING)
        extra_context = {
            **(extra_context or {}),
            "packs_in_progress": DeliveryPack.objects.filter(status__in=unfinished).exists(),
        }
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return format_html(
            '<progress max="100" value="{}">{}</progress> {}',
            obj.percent,
            local_percent(obj.percent),
            ngettext("%(done)s of %(total)s name", "%(done)s of %(total)s names", obj.names_total)
            % {"done": local_number(obj.names_done), "total": local_number(obj.names_total)},
        )

    @admin.display(description=_("Merkle root"))
    def root(self, obj):
        if obj.merkle_root is None:
            return "—"
        return format_html('<code dir="ltr">{}</code>', bytes(obj.merkle_root).hex())

    @admin.display(description=_("download"))
    def downloads(self, obj):
        if obj.status != DeliveryPack.Status.DONE:
            return "—"
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:petitions_deliverypack_download", args=[obj.pk, kind]), label)
                for kind, label in (("pdf", "PDF"), ("csv", "CSV"))
            ),
        )

    def get_urls(self):
        return [
            admin_path(self, "<int:pk>/download/<str:kind>/", self.download_view, "download"),
            *super().get_urls(),
        ]

    def download_view(self, request, pk, kind):
        if not can_export(request):
            raise PermissionDenied
        pack = get_object_or_404(
            DeliveryPack.objects.select_related("petition"), pk=pk, status=DeliveryPack.Status.DONE
        )
        if kind not in ("pdf", "csv"):
            raise Http404
        stored = getattr(pack, kind)
        audit.record(
            request.user,
            audit.Action.PACK_DOWNLOADED,
            pack.petition,
            pack=pack.pk,
            kind=kind,
            names=pack.names_done,
        )
        response = FileResponse(stored.open("rb"), as_attachment=True, filename=stored.name)
        response["Cache-Control"] = "no-store"
        return response


def texts_to_read(petition: Petition) -> list[dict]:
    return [
        {
            "code": code,
            "dir": text_direction(code),
            "name": Petition.Language(code).label,
            "url": petition.url_in(code),
            **{name: getattr(petition, f"{name}_{code}") for name in TEXT_FIELDS},
        }
        for code in LANGUAGE_CODES
        if petition.is_partly_in(code)
    ]


def similar_petitions(petition: Petition) -> list[Petition]:
    found = Petition.objects.similar_to(petition.title_en, petition.title_fa)
    return [other for other in found if other.pk != petition.pk]


def past_decisions(petition: Petition) -> list[dict]:
    entries = AuditEntry.objects.about(petition).filter(action__in=moderation.ACTIONS.values())
    return [
        {
            "when": local_datetime(entry.created_at),
            "who": entry.actor_label,
            "what": entry.get_action_display(),
            "reason": Petition.RejectionReason.label_of(entry.detail.get("reason", "")),
            "note": entry.detail.get("note", ""),
        }
        for entry in entries
    ]


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("decision"), choices=moderation.Choice.choices, widget=forms.RadioSelect
    )
    reason = forms.ChoiceField(
        label=_("reason, if sent back"),
        choices=[("", "—"), *Petition.RejectionReason.choices],
        required=False,
    )
    note = forms.CharField(
        label=_("note to the starter"),
        help_text=_("Sent to the starter with the reason, and shown on their page."),
        required=False,
        max_length=Petition._meta.get_field("moderator_note").max_length,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto"}),
    )
    # The reviewed_version shown: the decision is on that text.
    version = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == moderation.Choice.REJECT and not cleaned.get("reason"):
            self.add_error("reason", _("Choose the reason the starter will read."))
        if cleaned.get("reason") == Petition.RejectionReason.OTHER and not cleaned.get("note"):
            self.add_error("note", _("Explain the reason in the note."))
        return cleaned


@admin.register(ReviewQueue)
class ReviewQueueAdmin(PermissionGatedMixin, ReadOnlyAdmin):
    view_permission = "petitions.moderate_petition"
    list_display = (
        "title_en",
        "title_fa",
        "starter_name",
        "written_in",
        "confirmed",
        "supporters",
        "review",
    )
    list_display_links = None
    # Read-only, but the change page still builds a form to list its fields.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    search_fields = ("title_en", "title_fa", "starter_name")

    def get_queryset(self, request):
        return (
            Petition.objects.waiting_for_review()
            .with_supporters()
            .order_by("email_confirmed_at", "pk")
        )

    # The confirmed supporters who sent it for review; each becomes a signature on publishing.
    @admin.display(description=_("supporters"), ordering="supporter_total")
    def supporters(self, obj):
        return local_number(obj.supporter_total)

    # Every language it has text in; the petitions list's "original language" is another thing.
    @admin.display(description=_("languages it is written in"))
    def written_in(self, obj):
        return ", ".join(str(Petition.Language(code).label) for code in obj.languages)

    @admin.display(description=_("email confirmed"), ordering="email_confirmed_at")
    def confirmed(self, obj):
        return local_datetime(obj.email_confirmed_at)

    @admin.display(description=_("decision"))
    def review(self, obj):
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:petitions_reviewqueue_decide", args=[obj.pk]),
            _("Read and decide"),
        )

    def get_urls(self):
        return [
            admin_path(self, "<int:pk>/decide/", self.decide_view, "decide"),
            *super().get_urls(),
        ]

    def decide_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        petition = get_object_or_404(Petition, pk=pk)
        form = DecisionForm(request.POST or None, initial={"version": petition.reviewed_version})
        status = 200
        if request.method == "POST" and petition.status == Petition.Status.PENDING:
            try:
                if form.is_valid():
                    return self.decide(request, petition, form.cleaned_data)
            except moderation.ChangedSinceRead:
                messages.error(
                    request,
                    _(
                        "This petition was changed since you read it. "
                        "Read it again before deciding."
                    ),
                )
                petition.refresh_from_db()
                # The reason and note are kept; the decision itself is taken again, on this text.
                kept = {name: form.cleaned_data[name] for name in ("reason", "note")}
                form = DecisionForm(initial={**kept, "version": petition.reviewed_version})
                status = 409
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Read and decide"),
            "petition": petition,
            "texts": texts_to_read(petition),
            "similar": similar_petitions(petition),
            "form": form,
            "goal": local_number(petition.goal),
            "supporters": local_number(cosponsors.supporters_count(petition)),
            "decisions": past_decisions(petition),
            "waiting": petition.status == Petition.Status.PENDING,
        }
        return TemplateResponse(
            request, "admin/petitions/reviewqueue/decide.html", context, status=status
        )

    def decide(self, request, petition, data):
        try:
            if data["action"] == moderation.Choice.PUBLISH:
                moderation.publish(petition, by=request.user, read=data["version"])
                messages.success(request, _("Published. The starter has been emailed."))
            else:
                moderation.reject(
                    petition,
                    by=request.user,
                    reason=data["reason"],
                    note=data["note"],
                    read=data["version"],
                )
                messages.success(request, _("Sent back. The starter has been emailed."))
        except moderation.NotWaiting:
            messages.error(request, _("Someone else decided on this petition first."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(request.path)
        return redirect("admin:petitions_reviewqueue_changelist")


class UpdateForm(forms.ModelForm):
    """An update's text normalised as the start form normalises a petition's."""

    class Meta:
        model = Update
        fields = ("petition", "email_signers", "title_en", "title_fa", "body_en", "body_fa")

    def clean(self):
        cleaned = super().clean()
        for name in ("title_en", "title_fa", "body_en", "body_fa"):
            if cleaned.get(name):
                cleaned[name] = clean_text(cleaned[name], multiline=name.startswith("body"))
        return cleaned


def published_message(update: Update, recipients: int) -> str:
    if not update.email_signers:
        return _("“%(update)s” is published.") % {"update": update}
    return ngettext(
        "“%(update)s” is published and going to %(n)s signer.",
        "“%(update)s” is published and going to %(n)s signers.",
        recipients,
    ) % {"update": update, "n": local_number(recipients)}


def email_control(action: str, description):
    """The admin action that applies `mailing.control(update, action)` to each chosen update."""

    @admin.action(description=description, permissions=["moderate"])
    def control(model_admin, request, queryset):
        done = sum(mailing.control(update, action, by=request.user) for update in queryset)
        model_admin.message_user(
            request,
            ngettext("Done for %(n)s update.", "Done for %(n)s updates.", done)
            % {"n": local_number(done)},
        )

    return control


@admin.register(Update)
class UpdateAdmin(CalendarAdminMixin, BilingualFields, admin.ModelAdmin):
    """Moderators approve updates, which starts their email, and pause, resume or cancel a send."""

    list_display = (
        "__str__",
        "kind",
        "petition",
        "status",
        "email_state",
        "email_progress",
        "created_at",
    )
    list_filter = ("milestone", "status", "email_state", "petition")
    search_fields = ("title_en", "title_fa", "petition__title_en", "petition__title_fa")
    list_select_related = ("petition",)
    fieldsets = (
        (None, {"fields": ("petition", "kind", "email_signers")}),
        (
            _("Text in English and Persian"),
            {
                "classes": ("bilingual",),
                "fields": (("title_en", "title_fa"), ("body_en", "body_fa")),
            },
        ),
        (
            _("Approval and email"),
            {
                "fields": (
                    ("status", "published_at", "approved_by"),
                    "author",
                    ("email_state", "email_started_at", "email_finished_at"),
                    "email_progress",
                    "cap_overridden",
                )
            },
        ),
    )
    readonly_fields = (
        "kind",
        "status",
        "published_at",
        "approved_by",
        "author",
        "email_state",
        "email_started_at",
        "email_finished_at",
        "email_progress",
        "cap_overridden",
    )
    # No approval from the list: approving needs the version of the text its own page shows.
    actions = (
        "reject",
        "pause_email",
        "resume_email",
        "cancel_email",
        "resend_uncertain",
    )

    form = UpdateForm
    change_form_template = "admin/petitions/update/change_form.html"

    def has_moderate_permission(self, request):
        return request.user.has_perm("petitions.moderate_update")

    def has_change_permission(self, request, obj=None):
        # Once approved, the text is what the moderator approved and the signers were sent.
        if obj is not None and obj.status != Update.Status.SUBMITTED:
            return False
        return super().has_change_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
            super().save_model(request, obj, form, change)
            return
        # A conditional UPDATE, so that a form read before a moderator approved cannot replace
        # the approved text (or put the update back to awaiting approval).
        obj.arrived_late = not Update.objects.filter(
            pk=obj.pk, status=Update.Status.SUBMITTED
        ).update(**{name: getattr(obj, name) for name in Update.REVIEWED_FIELDS})

    def log_change(self, request, obj, message):
        if not getattr(obj, "arrived_late", False):
            return super().log_change(request, obj, message)
        return None

    def response_change(self, request, obj):
        if not getattr(obj, "arrived_late", False):
            return super().response_change(request, obj)
        self.message_user(
            request,
            _(
                "This update was approved or rejected before your changes arrived, so they "
                "were not saved."
            ),
            messages.ERROR,
        )
        return redirect("admin:petitions_update_change", obj.pk)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if (
            obj is not None
            and obj.status == Update.Status.SUBMITTED
            and self.has_moderate_permission(request)
        ):
            context["approval"] = {
                "url": reverse("admin:petitions_update_approve", args=[obj.pk]),
                "version": obj.reviewed_version,
                "emails": obj.email_signers,
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        return [
            admin_path(self, "<int:pk>/approve/", self.approve_view, "approve"),
            *super().get_urls(),
        ]

    def approve_view(self, request, pk):
        if request.method != "POST":
            return redirect("admin:petitions_update_change", pk)
        if not self.has_moderate_permission(request):
            raise PermissionDenied
        update = get_object_or_404(Update, pk=pk)
        override = "override" in request.POST
        self._approve(request, update, override=override, read=request.POST.get("version", ""))
        return redirect("admin:petitions_update_change", pk)

    @admin.display(description=_("kind"), ordering="milestone")
    def kind(self, obj):
        # A milestone is the site's own announcement, written and approved by no one.
        if not obj.milestone:
            return obj.get_milestone_display()
        return format_html('<strong class="milestone">{}</strong>', obj.get_milestone_display())

    @admin.display(description=_("email progress"))
    def email_progress(self, obj):
        if obj.email_state == Update.Email.NONE:
            return "—"
        counts = Delivery.objects.filter(update=obj).progress()
        shown = (
            (_("sent"), counts[Delivery.State.SENT]),
            (
                _("to send"),
                sum(counts[state] for state in Delivery.State.WAITING)
                - counts[Delivery.State.HELD],
            ),
            (_("failed"), counts[Delivery.State.FAILED]),
            (_("held a day"), counts[Delivery.State.HELD]),
            (_("skipped"), counts[Delivery.State.SKIPPED] + counts[Delivery.State.CANCELLED]),
            (_("uncertain"), counts[Delivery.State.UNCERTAIN]),
        )
        return format_html(
            '<span class="email-progress">{}</span>',
            format_html_join(" · ", "{}: {}", ((label, local_number(n)) for label, n in shown)),
        )

    def _approve(self, request, update, *, override: bool, read: str):
        try:
            recipients = mailing.approve(update, by=request.user, override_cap=override, read=read)
        except mailing.ChangedSinceRead:
            error = _("This update was changed since you read it. Read it again before approving.")
        except mailing.CapReached as exc:
            error = _(
                "“%(update)s” was not approved: this petition emailed its signers on "
                "%(date)s, and emails go out at most every %(days)s days. Untick its "
                "email, or approve it with the override."
            ) % {
                "update": update,
                "date": timezone.localtime(exc.last).strftime("%Y-%m-%d %H:%M"),
                "days": settings.UPDATE_EMAIL_MIN_DAYS,
            }
        else:
            update.refresh_from_db()
            if (
                update.approved_by_id == request.user.pk
                and update.status == Update.Status.PUBLISHED
            ):
                self.message_user(request, published_message(update, recipients), messages.SUCCESS)
                return
            error = _("Someone else decided on this update first.")
        self.message_user(request, error, messages.ERROR)

    @admin.action(description=_("Reject"), permissions=["moderate"])
    def reject(self, request, queryset):
        done = sum(mailing.reject(update, by=request.user) for update in queryset)
        self.message_user(
            request,
            ngettext("Rejected %(n)s update.", "Rejected %(n)s updates.", done)
            % {"n": local_number(done)},
        )

    pause_email = email_control("pause", _("Pause the email"))
    resume_email = email_control("resume", _("Resume the email"))
    cancel_email = email_control("cancel", _("Cancel the email"))
    resend_uncertain = email_control(
        "resend_uncertain", _("Send again the uncertain emails (a worker stopped mid-message)")
    )

import hashlib

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from config.admin_i18n import (
    CalendarAdminMixin,
    NormalisedSearchMixin,
    datetime_column,
    local_number,
    number_column,
)
from signatures.export import Export
from signatures.models import Signature, SignatureCount

from .models import Petition, text_direction
from .persian_tidy import diff_html, tidy_persian


def _language_of(field_name: str) -> str | None:
    suffix = field_name.rsplit("_", 1)[-1]
    return suffix if suffix in ("en", "fa") else None


# Shown under fields whose model help is silent or says too little for a first-time organiser.
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


@admin.register(Petition)
class PetitionAdmin(NormalisedSearchMixin, CalendarAdminMixin, admin.ModelAdmin):
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
    readonly_fields = ("preview_links", "created", "updated", "signatures_by_source")
    goal_shown = number_column("goal", _("goal"))
    created = datetime_column(Petition, "created_at")
    updated = datetime_column(Petition, "updated_at")
    # Each row puts the English and Persian versions of one field side by side, so an organiser
    # can check one against the other line by line.
    fieldsets = (
        (None, {"fields": ("status", "slug", "preview_links")}),
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
        (_("Embedding and sources"), {"fields": ("embed_sites", "signatures_by_source")}),
    )

    actions = ("export_csv", "export_jsonl")
    change_form_template = "admin/petitions/petition/change_form.html"

    class Media:
        css = {"all": ("admin-extra/petition-admin.css",)}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in FIELD_HELP:
            field.help_text = FIELD_HELP[db_field.name]
        language = _language_of(db_field.name)
        if field is not None and language:
            # Persian is typed right-to-left and spell-checked as Persian; the attributes also
            # tell a screen reader which voice to use.
            field.widget.attrs.update({"lang": language, "dir": text_direction(language)})
            if isinstance(db_field, models.TextField):
                field.widget.attrs.setdefault(
                    "rows", 14 if db_field.name.startswith("letter") else 5
                )
        return field

    def get_queryset(self, request):
        # The count comes in the same query as the rows, not one query per row.
        return (
            super().get_queryset(request).annotate(signature_total=SignatureCount.total_subquery())
        )

    @admin.display(description=_("signatures"), ordering="signature_total")
    def signature_count(self, obj):
        return local_number(obj.signature_total or 0)

    def response_add(self, request, obj, post_url_continue=None):
        if "_preview" in request.POST:
            return redirect(obj.url_in(translation.get_language()))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_preview" in request.POST:
            return redirect(obj.url_in(translation.get_language()))
        return super().response_change(request, obj)

    def save_model(self, request, obj, form, change):
        was_open = change and form.initial.get("status") == Petition.Status.OPEN
        super().save_model(request, obj, form, change)
        if obj.status == Petition.Status.OPEN and not was_open:
            # Saving as Open publishes at once; say so, with where to see it.
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

    @admin.display(description=_("signatures by source"))
    def signatures_by_source(self, obj):
        """Which page, widget host or shared link brought the signers: one GROUP BY query."""
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
            '<tr><td dir="ltr">{}</td><td>{}</td><td>{}</td></tr>',
            (
                (row["source"], local_number(row["counted"]), local_number(row["total"]))
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
        return request.user.has_perm("signatures.export_signature")

    @admin.action(description=_("Export signatures (CSV)"), permissions=["export"])
    def export_csv(self, request, queryset):
        return export_response(request, queryset.order_by("pk"), "csv")

    @admin.action(description=_("Export signatures (JSON Lines)"), permissions=["export"])
    def export_jsonl(self, request, queryset):
        return export_response(request, queryset.order_by("pk"), "jsonl")

    def get_urls(self):
        return [
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_view),
                name="petitions_petition_export",
            ),
            path(
                "<int:pk>/tidy-persian/",
                self.admin_site.admin_view(self.tidy_persian_view),
                name="petitions_petition_tidy_persian",
            ),
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
        """Tidy Persian spacing (issue 21): each Persian field's suggested change as a diff; the
        organiser ticks the ones to keep. A field edited since the page was shown is not
        overwritten: its suggestion is shown again."""
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
                petition.save(update_fields=[p["field"] for p in applied] + ["updated_at"])
                labels = ", ".join(str(p["label"]) for p in applied)
                self.log_change(request, petition, f"Tidied Persian spacing: {labels}")
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_export"] = self.has_export_permission(request)
        extra_context["signature_statuses"] = Signature.Status.choices
        return super().change_view(request, object_id, form_url, extra_context)


# The Persian fields an organiser writes, in the order the form shows them.
PERSIAN_FIELDS = ("addressed_to_fa", "title_fa", "summary_fa", "letter_fa")


def tidy_proposals(petition: Petition) -> list[dict]:
    """Each Persian field that tidying would change: before, after and the diff to show."""
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
    """Stream an export to the browser. The Export writes its own audit record when the stream
    ends: the server closes the response, and with it the Export, when the download finishes or
    breaks off."""
    if not request.user.has_perm("signatures.export_signature"):
        raise PermissionDenied
    stream = Export(petitions, fmt, by=request.user, status=status)
    name = stream.petitions[0].slug if len(stream.petitions) == 1 else "signatures"
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(stream, content_type=stream.content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{stream.extension}"'
    response["Cache-Control"] = "no-store"
    return response

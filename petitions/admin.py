from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from signatures.export import Export
from signatures.models import AuditRecord, Signature, SignatureCount

from . import delivery
from .models import DeliveryPack, Petition, text_direction


def _language_of(field_name: str) -> str | None:
    suffix = field_name.rsplit("_", 1)[-1]
    return suffix if suffix in ("en", "fa") else None


@admin.register(Petition)
class PetitionAdmin(admin.ModelAdmin):
    list_display = (
        "title_en",
        "title_fa",
        "status",
        "original_language",
        "goal",
        "signature_count",
        "opened_at",
    )
    list_display_links = ("title_en", "title_fa")
    list_filter = ("status", "original_language", "single_language")
    search_fields = ("title_en", "title_fa", "slug")
    prepopulated_fields = {"slug": ("title_en",)}
    readonly_fields = ("preview_links", "created_at", "updated_at", "signatures_by_source")
    date_hierarchy = "created_at"
    # Each row puts the English and Persian versions of one field side by side, so an organiser
    # can check one against the other line by line.
    fieldsets = (
        (None, {"fields": ("status", "slug", "preview_links")}),
        (
            _("Who and to whom"),
            {"fields": ("starter_name", ("addressed_to_en", "addressed_to_fa"))},
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
            {"fields": ("goal", "requires_confirmation", "opened_at", "closes_at", "created_at")},
        ),
        (_("Embedding and sources"), {"fields": ("embed_sites", "signatures_by_source")}),
    )

    actions = ("export_csv", "export_jsonl", "make_delivery_pack")
    change_form_template = "admin/petitions/petition/change_form.html"

    class Media:
        css = {"all": ("admin-extra/petition-admin.css",)}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
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
        return obj.signature_total or 0

    @admin.display(description=_("preview"))
    def preview_links(self, obj):
        if not obj.pk:
            return _("Save the petition to preview it.")
        return format_html_join(
            " · ",
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            ((obj.url_in(code), label) for code, label in (("en", "English"), ("fa", "فارسی"))),
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
            ((row["source"], row["counted"], row["total"]) for row in rows),
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

    @admin.action(description=_("Make a delivery pack (PDF and CSV)"), permissions=["export"])
    def make_delivery_pack(self, request, queryset):
        for petition in queryset.order_by("pk"):
            delivery.request_pack(petition, by=request.user)
        messages.success(
            request,
            _("The delivery pack is being made; its progress shows here. Reload to follow it."),
        )
        return HttpResponseRedirect(reverse("admin:petitions_deliverypack_changelist"))

    def get_urls(self):
        return [
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_view),
                name="petitions_petition_export",
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

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_export"] = self.has_export_permission(request)
        extra_context["signature_statuses"] = Signature.Status.choices
        return super().change_view(request, object_id, form_url, extra_context)


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


@admin.register(DeliveryPack)
class DeliveryPackAdmin(admin.ModelAdmin):
    """Packs are made by the petitions' "Make a delivery pack" action, never typed in; this list
    shows their progress and lets those who may export signatures download them."""

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
        "downloads",
        "error",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # While a pack is being made the list reloads itself every few seconds, so its progress
        # moves without the organiser pressing anything.
        unfinished = (DeliveryPack.Status.QUEUED, DeliveryPack.Status.RUNNING)
        extra_context = {
            **(extra_context or {}),
            "packs_in_progress": DeliveryPack.objects.filter(status__in=unfinished).exists(),
        }
        return super().changelist_view(request, extra_context)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("signatures.export_signature")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description=_("progress"))
    def progress(self, obj):
        return format_html(
            '<progress max="100" value="{}">{}%</progress> {}',
            obj.percent,
            obj.percent,
            _("%(done)s of %(total)s names")
            % {"done": f"{obj.names_done:,}", "total": f"{obj.names_total:,}"},
        )

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
            path(
                "<int:pk>/download/<str:kind>/",
                self.admin_site.admin_view(self.download_view),
                name="petitions_deliverypack_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk, kind):
        if not request.user.has_perm("signatures.export_signature"):
            raise PermissionDenied
        pack = get_object_or_404(DeliveryPack, pk=pk, status=DeliveryPack.Status.DONE)
        if kind not in ("pdf", "csv"):
            raise Http404
        stored = getattr(pack, kind)
        AuditRecord.record(
            request.user,
            AuditRecord.Action.EXPORT,
            pack.names_done,
            petition_id=pack.petition_id,
            detail=f"downloaded delivery pack {pack.pk} ({kind})",
        )
        response = FileResponse(stored.open("rb"), as_attachment=True, filename=stored.name)
        response["Cache-Control"] = "no-store"
        return response

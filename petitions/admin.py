from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from signatures.export import Export
from signatures.models import Signature, SignatureCount

from . import mailing
from .models import Delivery, Petition, Update, text_direction


def _language_of(field_name: str) -> str | None:
    suffix = field_name.rsplit("_", 1)[-1]
    return suffix if suffix in ("en", "fa") else None


class BilingualFields:
    """Each `_en`/`_fa` field typed in its own language and direction."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        language = _language_of(db_field.name)
        if field is not None and language:
            # Persian is typed right-to-left and spell-checked as Persian; the attributes also
            # tell a screen reader which voice to use.
            field.widget.attrs.update({"lang": language, "dir": text_direction(language)})
            if isinstance(db_field, models.TextField):
                field.widget.attrs.setdefault(
                    "rows", 14 if db_field.name.startswith(("letter", "body")) else 5
                )
        return field


@admin.register(Petition)
class PetitionAdmin(BilingualFields, admin.ModelAdmin):
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

    # The response's source is a web address: typed without a scheme, it is taken as https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ("export_csv", "export_jsonl")
    change_form_template = "admin/petitions/petition/change_form.html"

    class Media:
        css = {"all": ("admin-extra/petition-admin.css",)}

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


@admin.register(Update)
class UpdateAdmin(BilingualFields, admin.ModelAdmin):
    """Organisers write updates; moderators approve them, which publishes them and starts their
    email, and pause, resume or cancel a send. The progress of a send is read from its
    per-recipient rows."""

    list_display = ("__str__", "petition", "status", "email_state", "email_progress", "created_at")
    list_filter = ("status", "email_state", "petition")
    search_fields = ("title_en", "title_fa", "petition__title_en", "petition__title_fa")
    list_select_related = ("petition",)
    autocomplete_fields = ()
    fieldsets = (
        (None, {"fields": ("petition", "email_signers")}),
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
    actions = (
        "approve",
        "approve_overriding_pause",
        "reject",
        "pause_email",
        "resume_email",
        "cancel_email",
        "resend_uncertain",
    )

    class Media:
        css = {"all": ("admin-extra/petition-admin.css",)}

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

    @admin.display(description=_("email progress"))
    def email_progress(self, obj):
        if obj.email_state == Update.Email.NONE:
            return "—"
        counts = Delivery.objects.filter(update=obj).progress()
        waiting = sum(counts[state] for state in Delivery.State.WAITING)
        return format_html(
            '<span class="email-progress">{}: {} · {}: {} · {}: {} · {}: {} · {}: {}</span>',
            _("sent"),
            counts[Delivery.State.SENT],
            _("to send"),
            waiting,
            _("failed"),
            counts[Delivery.State.FAILED],
            _("skipped"),
            counts[Delivery.State.SKIPPED] + counts[Delivery.State.CANCELLED],
            _("uncertain"),
            counts[Delivery.State.UNCERTAIN],
        )

    @admin.action(
        description=_("Approve and publish (and email, if asked)"), permissions=["moderate"]
    )
    def approve(self, request, queryset):
        self._approve(request, queryset, override=False)

    @admin.action(
        description=_("Approve and email even within the pause between emails"),
        permissions=["moderate"],
    )
    def approve_overriding_pause(self, request, queryset):
        self._approve(request, queryset, override=True)

    def _approve(self, request, queryset, *, override: bool):
        for update in queryset.filter(status=Update.Status.SUBMITTED).order_by("created_at"):
            try:
                recipients = mailing.approve(update, by=request.user, override_cap=override)
            except mailing.CapReached as exc:
                self.message_user(
                    request,
                    _(
                        "“%(update)s” was not approved: this petition emailed its signers on "
                        "%(date)s, and emails go out at most every %(days)s days. Untick its "
                        "email, or approve it with the override."
                    )
                    % {
                        "update": update,
                        "date": timezone.localtime(exc.last).strftime("%Y-%m-%d %H:%M"),
                        "days": settings.UPDATE_EMAIL_MIN_DAYS,
                    },
                    messages.ERROR,
                )
                continue
            self.message_user(
                request,
                ngettext(
                    "“%(update)s” is published and going to %(n)d signer.",
                    "“%(update)s” is published and going to %(n)d signers.",
                    recipients,
                )
                % {"update": update, "n": recipients}
                if update.email_signers
                else _("“%(update)s” is published.") % {"update": update},
                messages.SUCCESS,
            )

    @admin.action(description=_("Reject"), permissions=["moderate"])
    def reject(self, request, queryset):
        done = sum(mailing.reject(update, by=request.user) for update in queryset)
        self.message_user(
            request,
            ngettext("Rejected %(n)d update.", "Rejected %(n)d updates.", done) % {"n": done},
        )

    def _control(self, request, queryset, action: str):
        done = sum(mailing.control(update, action, by=request.user) for update in queryset)
        self.message_user(request, _("Done for %(n)d update(s).") % {"n": done})

    @admin.action(description=_("Pause the email"), permissions=["moderate"])
    def pause_email(self, request, queryset):
        self._control(request, queryset, "pause")

    @admin.action(description=_("Resume the email"), permissions=["moderate"])
    def resume_email(self, request, queryset):
        self._control(request, queryset, "resume")

    @admin.action(description=_("Cancel the email"), permissions=["moderate"])
    def cancel_email(self, request, queryset):
        self._control(request, queryset, "cancel")

    @admin.action(
        description=_("Send again the uncertain emails (a worker stopped mid-message)"),
        permissions=["moderate"],
    )
    def resend_uncertain(self, request, queryset):
        self._control(request, queryset, "resend_uncertain")

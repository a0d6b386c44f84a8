import functools

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from lib.admin import CalendarAdminMixin, ReadOnlyAdmin, admin_path, local_datetime, local_number

from . import webhooks
from .models import Delivery, Endpoint, Event, default_events

SITEWIDE_PERMISSION = "integrations.add_sitewide_endpoint"
# An endpoint receives signers' details as they sign: whoever manages one must be trusted with an
# export of the same signers.
EXPORT_PERMISSION = "signatures.export_signature"
RECENT = 5
MAIN_FIELDS = ("description", "petition", "url", "events", "active", "owner_email",
               "owner_language")  # fmt: skip


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=capfirst(Endpoint._meta.get_field("events").verbose_name),
        choices=Event.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=default_events,
    )

    class Meta:
        model = Endpoint
        fields = MAIN_FIELDS
        widgets = {"url": forms.URLInput(attrs={"dir": "ltr", "class": "vURLField"})}
        field_classes = {"url": functools.partial(forms.URLField, assume_scheme="https")}

    def clean(self):
        data = super().clean()
        if not data.get("petition") and not self.may_cover_site:
            self.add_error(
                "petition",
                _("Choose the petition: only staff with the right may add a webhook for every "
                  "petition."),
            )  # fmt: skip
        return data


@admin.register(Endpoint)
class EndpointAdmin(CalendarAdminMixin, admin.ModelAdmin):
    form = EndpointForm
    list_display = ("shown_name", "petition_shown", "active", "events_shown", "failure_streak",
                    "last_delivery")  # fmt: skip
    list_filter = ("active",)
    list_select_related = ("petition",)
    search_fields = ("url", "description", "owner_email")
    autocomplete_fields = ("petition",)
    readonly_fields = ("secret_shown", "failure_streak", "failing_since", "disabled_at",
                       "recent_deliveries")  # fmt: skip
    change_form_template = "admin/integrations/endpoint/change_form.html"
    fieldsets = [
        (None, {"fields": MAIN_FIELDS}),
        (_("Signing"), {"fields": ("secret_shown",)}),
        (_("Failures"), {"fields": ("failure_streak", "failing_since", "disabled_at")}),
        (_("Recent deliveries"), {"fields": ("recent_deliveries",)}),
    ]

    def has_module_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        allowed = super().has_view_permission(request, obj)
        return request.user.has_perm(EXPORT_PERMISSION) and allowed

    def has_add_permission(self, request):
        return request.user.has_perm(EXPORT_PERMISSION) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return request.user.has_perm(EXPORT_PERMISSION) and allowed

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return request.user.has_perm(EXPORT_PERMISSION) and allowed

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # Keeping an existing site-wide endpoint site-wide needs no more right than editing it.
        form.may_cover_site = request.user.has_perm(SITEWIDE_PERMISSION) or bool(
            obj and obj.pk and obj.petition_id is None
        )
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": MAIN_FIELDS})]
        return super().get_fieldsets(request, obj)  # `fieldsets`, with times in the calendar

    def save_model(self, request, obj, form, change):
        if change and "active" in form.changed_data and obj.active:
            # Turned on again: a fresh start, so the next failure is not the last straw.
            obj.failure_streak, obj.failing_since, obj.disabled_at = 0, None, None
        super().save_model(request, obj, form, change)

    @admin.display(description=_("endpoint"), ordering="url")
    def shown_name(self, obj):
        return format_html(
            '<bdi dir="auto">{}</bdi><br><bdi dir="ltr" class="webhook-url">{}</bdi>',
            Truncator(obj.description or "").chars(60),
            Truncator(obj.url).chars(60),
        )

    @admin.display(description=_("petition"), ordering="petition")
    def petition_shown(self, obj):
        if obj.petition is None:
            return _("Every petition")
        return format_html('<bdi dir="auto">{}</bdi>', Truncator(str(obj.petition)).chars(60))

    @admin.display(description=_("events"))
    def events_shown(self, obj):
        return local_number(len(obj.events))

    @admin.display(description=_("last delivery"))
    def last_delivery(self, obj):
        last = obj.deliveries.order_by("-pk").first()
        return f"{last.get_state_display()} · {local_datetime(last.created_at)}" if last else "—"

    @admin.display(description=_("signing secret"))
    def secret_shown(self, obj):
        # Anyone who may edit the endpoint could point it at their own server and receive the
        # same data, so hiding the secret from them would protect nothing.
        return format_html(
            '<input type="text" readonly dir="ltr" value="{}" class="webhook-secret" '
            'aria-label="{}"><div class="help">{}</div>',
            obj.secret,
            _("signing secret"),
            _("Give it to your receiver to check each delivery's webhook-signature header "
              "(see the webhooks guide)."),
        )  # fmt: skip

    @admin.display(description=_("recent deliveries"))
    def recent_deliveries(self, obj):
        rows = obj.deliveries.order_by("-pk")[:RECENT]
        if not rows:
            return "—"
        return format_html(
            "<ul class='webhook-recent'>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> · {} · {}{}</li>',
                (
                    (
                        reverse("admin:integrations_delivery_change", args=[row.pk]),
                        row.event,
                        row.get_state_display(),
                        local_datetime(row.delivered_at or row.created_at),
                        f" · {row.status_code}" if row.status_code else "",
                    )
                    for row in rows
                ),
            ),
        )

    def get_urls(self):
        return [
            admin_path(self, "<int:pk>/ping/", require_POST(self.ping_view), "ping"),
            *super().get_urls(),
        ]

    def ping_view(self, request, pk):
        endpoint = get_object_or_404(Endpoint, pk=pk)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        delivery = webhooks.ping(endpoint, by=request.user)
        # With the database queue the worker has it now; with the immediate one it is done.
        delivery.refresh_from_db()
        if delivery.state == Delivery.State.DELIVERED:
            messages.success(
                request,
                _("The test event was delivered: the receiver answered %(code)s.")
                % {"code": local_number(delivery.status_code)},
            )
        elif delivery.state == Delivery.State.FAILED:
            messages.error(
                request,
                _("The test event failed: %(error)s") % {"error": delivery.error},
            )
        else:
            messages.info(request, _("The test event is queued; its result shows below."))
        return redirect("admin:integrations_delivery_change", delivery.pk)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "endpoint_shown", "state", "attempts", "status_code",
                    "error_shown", "next_attempt", "delivered_at")  # fmt: skip
    list_filter = ("state", "event")
    list_select_related = ("endpoint",)
    search_fields = ("endpoint__url", "endpoint__description")
    fields = ("endpoint", "event", "webhook_id", "subject_id", "petition_id", "occurred_at",
              "created_at", "state", "attempts", "status_code", "error", "next_attempt",
              "delivered_at")  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("endpoint"), ordering="endpoint")
    def endpoint_shown(self, obj):
        return format_html('<bdi dir="auto">{}</bdi>', Truncator(str(obj.endpoint)).chars(30))

    @admin.display(description=_("last error"))
    def error_shown(self, obj):
        return format_html('<bdi dir="ltr">{}</bdi>', Truncator(obj.error).chars(40))

    @admin.display(description=_("next attempt"), ordering="due_at")
    def next_attempt(self, obj):
        return local_datetime(obj.due_at) if obj.state == Delivery.State.QUEUED else "—"

    @admin.display(description="webhook-id")
    def webhook_id(self, obj):
        return format_html('<code dir="ltr">{}</code>', obj.webhook_id)

"""The admin in its reader's language, calendar and digits; Django's locale formats know only the
Gregorian calendar and Latin digits. Form inputs and URLs stay ASCII."""

import datetime
import json
import re

import jdatetime
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.models import LogEntry
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    ReadOnlyPasswordHashWidget,
    UserChangeForm,
)
from django.contrib.auth.models import Permission
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import DateField, DateTimeField, IntegerField, Min
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import persian
from .normalise import clean_code
from .persian import ascii_digits


def local_datetime(value) -> str:
    return persian.format_datetime(value, translation.get_language()) if value else "—"


def local_date(value) -> str:
    return persian.format_date(value, translation.get_language()) if value else "—"


def local_number(value) -> str:
    if value in (None, ""):
        return "—"
    return persian.format_number(int(value), translation.get_language())


def local_percent(value) -> str:
    return persian.format_percent(int(value), translation.get_language())


def datetime_column(model, field: str, description=None):
    def column(self, obj):
        return local_datetime(getattr(obj, field))

    label = description or model._meta.get_field(field).verbose_name
    return admin.display(description=label, ordering=field)(column)


def number_column(field: str, description, ordering: str | None = None):
    def column(self, obj):
        return local_number(getattr(obj, field))

    return admin.display(description=description, ordering=ordering or field)(column)


# Between the two, a year typed on the Persian admin means nothing certain.
SOLAR_HIJRI_YEARS = range(1300, 1500)
FIRST_GREGORIAN_YEAR = 1900
_YEAR_FIRST = re.compile(r"(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,2})")


class ReaderDateField(forms.DateField):
    """The calendar widget's "Today" writes Gregorian even on the Persian admin; in English a
    Solar Hijri-looking year is refused rather than stored 621 years early."""

    def to_python(self, value):
        if isinstance(value, str):
            value = ascii_digits(value).strip()
            match = _YEAR_FIRST.fullmatch(value)
            if match:
                return self._day(*(int(part) for part in match.groups()))
        day = super().to_python(value)
        if day is not None and not isinstance(value, datetime.date):
            return self._day(day.year, day.month, day.day)
        return day

    def _day(self, year: int, month: int, day: int) -> datetime.date:
        language = translation.get_language()
        try:
            if language == "fa" and year in SOLAR_HIJRI_YEARS:
                return jdatetime.date(year, month, day).togregorian()
            if language == "fa" and year < FIRST_GREGORIAN_YEAR:
                raise ValidationError(
                    _(
                        "The year %(year)s is neither Solar Hijri (%(first)s to %(last)s) nor "
                        "Gregorian (%(gregorian)s onwards). Write the year in full."
                    ),
                    code="ambiguous_year",
                    params={
                        "year": persian.year_label(year, language),
                        "first": persian.year_label(SOLAR_HIJRI_YEARS[0], language),
                        "last": persian.year_label(SOLAR_HIJRI_YEARS[-1], language),
                        "gregorian": persian.year_label(FIRST_GREGORIAN_YEAR, language),
                    },
                )
            if year in SOLAR_HIJRI_YEARS:
                raise ValidationError(
                    _(
                        "%(year)s looks like a Solar Hijri year: enter the Gregorian date "
                        "(for example 2026-12-05), or use the Persian admin to type a Solar "
                        "Hijri one."
                    ),
                    code="solar_hijri_year",
                    params={"year": year},
                )
            return datetime.date(year, month, day)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class ReaderTimeField(forms.TimeField):
    def to_python(self, value):
        return super().to_python(ascii_digits(value) if isinstance(value, str) else value)


class ReaderDateWidget(widgets.AdminDateWidget):
    def format_value(self, value):
        if isinstance(value, datetime.date) and translation.get_language() == "fa":
            jalali = jdatetime.date.fromgregorian(date=value)
            return f"{jalali.year:04d}-{jalali.month:02d}-{jalali.day:02d}"
        return super().format_value(value)


class ReaderSplitDateTimeWidget(widgets.AdminSplitDateTime):
    def __init__(self, attrs=None):
        forms.MultiWidget.__init__(self, [ReaderDateWidget, widgets.AdminTimeWidget], attrs)


class ReaderSplitDateTimeField(forms.SplitDateTimeField):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        date, time = self.fields
        self.fields = (
            ReaderDateField(error_messages=date.error_messages, required=date.required),
            ReaderTimeField(error_messages=time.error_messages, required=time.required),
        )


def _field(model, name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


_calendar_columns: dict = {}


def _shown_as(model, name: str):
    field = _field(model, name) if isinstance(name, str) else None
    if isinstance(field, DateTimeField):
        return local_datetime
    if isinstance(field, DateField):
        return local_date
    if isinstance(field, IntegerField) and not field.choices and not field.primary_key:
        return local_number
    return None


def calendar_column(model, name: str):
    """One per field: the admin compares list columns by identity."""
    key = (model, name)
    if key not in _calendar_columns:
        shown = _shown_as(model, name)

        def column(obj):
            return shown(getattr(obj, name))

        column.__name__ = name
        _calendar_columns[key] = admin.display(
            description=model._meta.get_field(name).verbose_name, ordering=name
        )(column)
    return _calendar_columns[key]


class CalendarAdminMixin:
    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, DateTimeField):
            kwargs = {
                "form_class": ReaderSplitDateTimeField,
                "widget": ReaderSplitDateTimeWidget,
                **kwargs,
            }
        elif isinstance(db_field, DateField):
            kwargs = {"form_class": ReaderDateField, "widget": ReaderDateWidget, **kwargs}
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_list_display(self, request):
        return [
            calendar_column(self.model, name) if _shown_as(self.model, name) else name
            for name in super().get_list_display(request)
        ]

    def _shown_only(self, request, obj):
        if not self.has_change_permission(request, obj):
            return None  # a view-only page shows every field read-only
        return set(super().get_readonly_fields(request, obj))

    def get_fields(self, request, obj=None):
        shown_only = self._shown_only(request, obj)
        return [self._in_calendar(entry, shown_only) for entry in super().get_fields(request, obj)]

    def get_fieldsets(self, request, obj=None):
        shown_only = self._shown_only(request, obj)
        return [
            (name, {**options, "fields": self._in_calendar(options["fields"], shown_only)})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            # Django fills these in with Latin digits.
            changelist = context["cl"]
            rows, total = len(changelist.result_list), changelist.result_count
            context["selection_note"] = gettext("%(count)s of %(cnt)s selected") % {
                "count": local_number(0),
                "cnt": local_number(rows),
            }
            context["selection_note_all"] = ngettext(
                "%(total_count)s selected", "All %(total_count)s selected", total
            ) % {"total_count": local_number(total)}
        return response

    def get_readonly_fields(self, request, obj=None):
        return [self._in_calendar(name, None) for name in super().get_readonly_fields(request, obj)]

    def _in_calendar(self, entry, only):
        if isinstance(entry, (list, tuple)):
            return type(entry)(self._in_calendar(name, only) for name in entry)
        if (
            isinstance(entry, str)
            and (only is None or entry in only)
            and _shown_as(self.model, entry)
        ):
            return calendar_column(self.model, entry)
        return entry

    def get_list_filter(self, request):
        return [
            (name, CalendarDateFilter)
            if isinstance(name, str) and isinstance(_field(self.model, name), DateField)
            else name
            for name in super().get_list_filter(request)
        ]


def in_reader_calendar(*models, extra: dict | None = None, mixins: tuple = ()) -> None:
    """Register an installed app's models again, its admin subclassed with the calendar mixin,
    `mixins` and the attributes in `extra`."""
    for model in models:
        if not admin.site.is_registered(model):  # the app's settings can leave some out
            continue
        installed = type(admin.site.get_model_admin(model))
        admin.site.unregister(model)
        # Django's date hierarchy is Gregorian; the calendar filter replaces it.
        attributes = {"date_hierarchy": None, **(extra or {})}
        if installed.date_hierarchy and installed.date_hierarchy not in installed.list_filter:
            attributes["list_filter"] = (*installed.list_filter, installed.date_hierarchy)
        admin.site.register(
            model,
            type(
                f"Calendar{installed.__name__}",
                (CalendarAdminMixin, *mixins, installed),
                attributes,
            ),
        )


# Django stores a permission's name in English.
PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    content_type = permission.content_type
    model = content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is None:  # a model since removed
        name = gettext(permission.name)
    elif action in PERMISSION_ACTIONS and model_name == model._meta.model_name:
        name = PERMISSION_ACTIONS[action] % {"model": model._meta.verbose_name}
    else:  # the model's own, from its Meta.permissions
        name = gettext(dict(model._meta.permissions).get(permission.codename, permission.name))
    return f"{content_type} | {name}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class ReadablePermissionsMixin:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.remote_field.model is Permission:
            kwargs["form_class"] = PermissionChoiceField
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReaderPasswordHashWidget(ReadOnlyPasswordHashWidget):
    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for entry in context["summary"]:
            shown = entry.get("value")
            if isinstance(shown, int):
                entry["value"] = local_number(shown)
            elif shown:
                entry["value"] = format_html('<span lang="zxx">{}</span>', shown)
        return context


class ReaderUserChangeForm(UserChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "password" in self.fields:
            self.fields["password"].widget = ReaderPasswordHashWidget()


class ReaderAdminPasswordChangeForm(AdminPasswordChangeForm):
    """Django joins this help text to an English sentence at import, before any language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "usable_password" in self.fields:
            self.fields["usable_password"].help_text = format_html(
                '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li>'
                "</ul>",
                gettext(
                    "Whether the user will be able to authenticate using a password or not. "
                    "If disabled, they may still be able to authenticate using other backends, "
                    "such as Single Sign-On or LDAP."
                ),
                gettext("If disabled, the current password for this user will be lost."),
            )


class ObjectNameMixin:
    """Headings from `object_name`, for a model whose str() is English with an ISO time (axes)."""

    def object_name(self, obj) -> str:
        return str(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context = {"subtitle": self.object_name(obj), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            title = gettext("Change history: %s") % self.object_name(obj)
            extra_context = {"title": title, **(extra_context or {})}
        return super().history_view(request, object_id, extra_context)


def object_name(obj) -> str:
    model = type(obj)
    if admin.site.is_registered(model):
        named = getattr(admin.site.get_model_admin(model), "object_name", None)
        if named:
            return named(obj)
    return str(obj)


def _field_label(stored: str) -> str:
    translated = gettext(stored)
    if translated == stored and stored:
        # Django stores the form's label, capitalised; the catalogue has the verbose name.
        translated = capfirst(gettext(stored[0].lower() + stored[1:]))
    return translated


def change_message(entry: LogEntry) -> str:
    try:
        messages = json.loads(entry.change_message)
    except json.JSONDecodeError:
        return entry.get_change_message()
    if not isinstance(messages, list):
        return entry.get_change_message()
    for message in messages:
        changed = message.get("changed") if isinstance(message, dict) else None
        if isinstance(changed, dict) and isinstance(changed.get("fields"), list):
            changed["fields"] = [_field_label(name) for name in changed["fields"]]
    return LogEntry(change_message=json.dumps(messages)).get_change_message()


class CalendarDateFilter(admin.DateFieldListFilter):
    """Django's date filter in the reader's calendar, with a year and month drill-down that costs
    one MIN() rather than date_hierarchy's SELECT DISTINCT over every row."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.language = language = translation.get_language()
        now = timezone.localtime() if settings.USE_TZ else datetime.datetime.now()
        today = now.date()
        year, month, _day = persian.calendar_date(today, language)
        tomorrow = today + datetime.timedelta(days=1)
        links = [
            (_("Any date"), {}),
            (_("Today"), self._span(today, tomorrow)),
            (_("Past 7 days"), self._span(today - datetime.timedelta(days=7), tomorrow)),
            (_("This month"), self._months(year, month)),
        ]
        first = model._default_manager.aggregate(first=Min(field_path))["first"]
        first_year = persian.calendar_date(self._day(first), language)[0] if first else year
        for y in range(year, first_year - 1, -1):
            links += self._year_links(y, last_month=12 if y < year else month)
        if field.null:
            links += [
                (_("No date"), {self.field_generic + "isnull": True}),
                (_("Has date"), {self.field_generic + "isnull": False}),
            ]
        self.links = tuple(links)

    def _year_links(self, year: int, last_month: int) -> list:
        """The year, and its months back from `last_month` while a date in it is chosen."""
        year_span = self._months(year, 1, count=12)
        links = [(persian.year_label(year, self.language), year_span)]
        since, until = map(str, year_span.values())  # as the chosen date arrives
        chosen = self.date_params.get(self.lookup_kwarg_since)
        if chosen and since <= chosen < until:
            for m in range(last_month, 0, -1):
                label = persian.month_name(year, m, self.language)
                links.append((f"— {label}", self._months(year, m)))
        return links

    def _months(self, year: int, month: int, count: int = 1) -> dict:
        start = persian.month_start(year, month, self.language)
        return self._span(start, persian.month_start(year, month + count, self.language))

    def _span(self, start: datetime.date, end: datetime.date) -> dict:
        return {
            self.lookup_kwarg_since: self._moment(start),
            self.lookup_kwarg_until: self._moment(end),
        }

    def _moment(self, day: datetime.date):
        if not isinstance(self.field, DateTimeField):
            return day
        moment = datetime.datetime.combine(day, datetime.time.min)
        return timezone.make_aware(moment) if settings.USE_TZ else moment

    @staticmethod
    def _day(value) -> datetime.date:
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
        return value


class NormalisedSearchMixin:
    """Search normalised as the sign form stores, so `علي` finds `علی`."""

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, clean_code(search_term))


class NoAddOrEditMixin:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoAddOrEditMixin, CalendarAdminMixin, admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None):
        return False


class PermissionGatedMixin:
    """Seen, in the index too, only with `view_permission`."""

    view_permission: str

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.view_permission)

    def has_module_permission(self, request):
        return self.has_view_permission(request)


def source_label(source: str):
    kind, _colon, detail = source.partition(":")
    tagged = {"widget": _("the widget, on"), "link": _("a shared link, tagged")}
    if kind in tagged and detail:
        return format_html('{} <bdi dir="ltr">{}</bdi>', tagged[kind], detail)
    return _("the widget") if kind == "widget" else _("the petition page")


def admin_path(model_admin, route: str, view, name: str):
    """A page of `model_admin` behind the admin's login, named as Django names the admin's own:
    `admin:<app>_<model>_<name>`."""
    opts = model_admin.model._meta
    url_name = f"{opts.app_label}_{opts.model_name}_{name}"
    return path(route, model_admin.admin_site.admin_view(view), name=url_name)


def admin_in_language(request, rest: str = ""):
    """Set the admin's language cookie from the address, then go to the one admin address."""
    response = HttpResponseRedirect(f"/{settings.ADMIN_URL}{rest}")
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        translation.get_language(),
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response

"""Third-party apps renamed (their AppConfig subclassed) and translated, for moderators in both
languages; our catalogue comes first in LOCALE_PATHS, so the labels below fill their gaps."""

from axes.apps import AppConfig as BaseAxesConfig
from django.contrib.auth.apps import AuthConfig as BaseAuthConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy
from django_tasks_db.apps import TasksAppConfig


class AxesConfig(BaseAxesConfig):
    verbose_name = _("Sign-in protection")

    def ready(self):
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog
        from django.conf import settings
        from django.contrib import admin
        from django.utils.translation import gettext, ngettext

        from lib.admin import (
            ObjectNameMixin,
            in_reader_calendar,
            local_datetime,
            local_number,
        )

        # axes writes the attempts left in Latin digits before English words.
        @admin.display(description=_("status"))
        def status(model_admin, obj):
            left = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
            if left <= 0:
                return gettext("Locked Out")
            return ngettext("%(count)s attempt left", "%(count)s attempts left", left) % {
                "count": local_number(left)
            }

        # axes names a row in English with an ISO time.
        names = {
            AccessAttempt: _("Attempts by %(username)s, %(time)s"),
            AccessLog: _("Sign-in by %(username)s, %(time)s"),
            AccessFailureLog: _("Failed sign-in by %(username)s, %(time)s"),
        }
        for model, name in names.items():

            def object_name(model_admin, obj, name=name):
                return name % {"username": obj.username, "time": local_datetime(obj.attempt_time)}

            extra = {"object_name": object_name}
            if model is AccessAttempt:
                extra["status"] = status
            in_reader_calendar(model, mixins=(ObjectNameMixin,), extra=extra)


class AuthConfig(BaseAuthConfig):
    def ready(self):
        super().ready()
        from django.contrib.auth.models import Group, User

        from lib.admin import (
            ReadablePermissionsMixin,
            ReaderAdminPasswordChangeForm,
            ReaderUserChangeForm,
            in_reader_calendar,
        )

        in_reader_calendar(Group, mixins=(ReadablePermissionsMixin,))
        in_reader_calendar(
            User,
            mixins=(ReadablePermissionsMixin,),
            extra={
                "form": ReaderUserChangeForm,
                "change_password_form": ReaderAdminPasswordChangeForm,
            },
        )


class TasksDatabaseConfig(TasksAppConfig):
    verbose_name = _("Email queue")

    def ready(self):
        super().ready()
        from django.contrib import admin
        from django.utils.html import format_html
        from django_tasks_db.models import DBTaskResult

        from lib.admin import in_reader_calendar

        # Two headers the app gives as plain, untranslatable English.
        @admin.display(description=_("task"))
        def task_name(model_admin, obj):
            return obj.task_name

        @admin.display(description=_("traceback"))
        def formatted_traceback(model_admin, obj):
            return format_html("<pre>{}</pre>", obj.traceback) if obj.traceback else "-"

        in_reader_calendar(
            DBTaskResult,
            extra={"task_name": task_name, "formatted_traceback": formatted_traceback},
        )


# Listed so that `make messages` keeps them in our catalogue.
THIRD_PARTY_LABELS = (
    # Django's admin and auth
    gettext_noop("Model name"),
    ngettext_lazy("Please correct the error below.", "Please correct the errors below.", 1),
    gettext_noop("Reset password"),
    gettext_noop("Raw passwords are not stored, so there is no way to see the user’s password."),
    gettext_noop("Password-based authentication"),
    gettext_noop("Enabled"),
    gettext_noop("Disabled"),
    gettext_noop(
        "Whether the user will be able to authenticate using a password or not. If disabled, "
        "they may still be able to authenticate using other backends, such as Single Sign-On or "
        "LDAP."
    ),
    gettext_noop("Hold down “Control”, or “Command” on a Mac, to select more than one."),
    gettext_noop("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
    gettext_noop("salt"),
    gettext_noop("hash"),
    # axes
    gettext_noop("Access Attempt"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Expires At"),
    gettext_noop("Locked Out"),
    gettext_noop("Not set"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("Account locked: too many login attempts. Please try again later."),
    # django-tasks-db and django-tasks
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    gettext_noop("args kwargs"),
    gettext_noop("backend name"),
    gettext_noop("enqueued at"),
    gettext_noop("exception class path"),
    gettext_noop("finished at"),
    gettext_noop("priority"),
    gettext_noop("queue name"),
    gettext_noop("return value"),
    gettext_noop("run after"),
    gettext_noop("started at"),
    gettext_noop("status"),
    gettext_noop("task path"),
    gettext_noop("traceback"),
    gettext_noop("worker id"),
    pgettext_lazy("Task", "Ready"),
    pgettext_lazy("Task", "Running"),
    pgettext_lazy("Task", "Failed"),
    pgettext_lazy("Task", "Successful"),
)

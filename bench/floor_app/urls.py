from django.conf.urls.i18n import i18n_patterns
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from lib.health import healthz

from . import views

# Under the language prefix like the real pages, so LocaleMiddleware does the same work. The insert
# is exempt from Django's CSRF check as the sign view is: the same POST, without a CSRF cookie.
urlpatterns = [path("healthz", healthz, name="healthz")]
urlpatterns += i18n_patterns(
    path("floor/insert/", csrf_exempt(views.insert), name="floor-insert"),
    path("floor/hello.json", views.hello, name="floor-hello"),
    prefix_default_language=True,
)

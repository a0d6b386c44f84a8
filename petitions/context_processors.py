from django.conf import settings
from django.urls import translate_url
from django.utils import translation

from lib.urls import site_url

from .models import text_direction


def site(request):
    """What every page's frame needs: its direction and its own address in each language."""
    language = translation.get_language()
    # The page itself in each language, without its query string (share trackers and the like),
    # which also keeps the page the same for every reader (HTTP caches serve it).
    path = request.path
    alternates = []
    for code, name in settings.LANGUAGES:
        with translation.override(code):
            localised_name = translation.gettext(name)
        url = translate_url(path, code)
        alternates.append(
            {
                "code": code,
                "name": localised_name,
                "url": url,
                "absolute_url": site_url(url),
                "dir": text_direction(code),
                "current": code == language,
            }
        )
    return {
        "LANGUAGE_DIR": text_direction(language),
        "alternates": alternates,
        "ADMIN_URL": "/" + settings.ADMIN_URL,
        # `make run` prints emails instead of sending them; its "check your email" pages say so.
        "MAIL_IN_TERMINAL": settings.DEBUG
        and settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend",
    }

from dataclasses import replace

from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from lib.normalise import canonical_email

from . import confirmation, signing, supporter
from .models import Signature


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """GET only shows the button, because mail scanners open links."""
    try:
        signature_id, email = confirmation.read_token(token)
    except confirmation.ExpiredToken:
        return render(request, "signatures/confirm.html", {"state": "expired"}, status=410)
    except confirmation.InvalidToken:
        return render(request, "signatures/confirm.html", {"state": "invalid"}, status=400)

    signature = (
        Signature.objects.select_related("petition")
        .filter(pk=signature_id, email_canonical=email)
        .first()
    )
    if signature is None or signature.status == Signature.Status.INVALIDATED:
        return render(request, "signatures/confirm.html", {"state": "invalid"}, status=400)
    context = {
        "signature": signature,
        "petition": signature.petition,
        "text": signature.petition.in_language(translation.get_language()),
    }
    if request.method != "POST":
        state = "done" if signature.status == Signature.Status.COUNTED else "ask"
        return render(request, "signatures/confirm.html", context | {"state": state})

    try:
        signing.confirm(signature_id, email)
    except signing.AlreadyConfirmed:
        return render(request, "signatures/confirm.html", context | {"state": "done"})
    except signing.CannotConfirm:
        return render(request, "signatures/confirm.html", {"state": "invalid"}, status=400)
    response = redirect(signature.petition.get_thanks_url() + "?confirmed=1")
    # Never remember the row: someone else may have signed with this address first.
    remembered = supporter.recall(request)
    if remembered and canonical_email(remembered.email) == signature.email_canonical:
        supporter.remember(response, replace(remembered, confirmed=True))
    return response

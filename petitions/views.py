from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from signatures import services, supporter
from signatures.forms import SignForm
from signatures.models import SignatureCount

from .goals import next_goal
from .models import Petition


@require_safe
def home(request):
    language = translation.get_language()
    petitions = list(Petition.objects.open())
    totals = SignatureCount.objects.totals_for(p.pk for p in petitions)
    cards = []
    for petition in petitions:
        count = totals.get(petition.pk, 0)
        cards.append(
            {
                "petition": petition,
                "text": petition.in_language(language),
                "count": count,
                "goal": next_goal(count, petition.goal),
            }
        )
    return render(request, "petitions/home.html", {"cards": cards})


@require_safe
def detail(request, slug):
    # Organisers preview drafts on the real page before anyone else can see them.
    visible = (
        Petition.objects.all()
        if request.user.has_perm("petitions.change_petition")
        else Petition.objects.public()
    )
    return render_petition(request, get_object_or_404(visible, slug=slug))


def render_petition(request, petition: Petition, *, form=None, status: int = 200):
    """The petition page; also what a sign form with errors is answered with."""
    language = translation.get_language()
    snapshot = services.count_snapshot(petition)
    remembered = supporter.recall(request)
    # "Not you?" asks for the full form; so does a form that came back with errors.
    one_click = remembered is not None and form is None and request.GET.get("form") != "full"
    if form is None:
        form = SignForm(language=language)
    return render(
        request,
        "petitions/detail.html",
        {
            "petition": petition,
            "text": petition.in_language(language),
            "count": snapshot.count,
            "goal": snapshot.goal,
            "last_signed_at": snapshot.last_signed_at,
            "form": form,
            "remembered": remembered if one_click else None,
            "recent_signers": services.recent_signers(petition),
            "page_url": request.build_absolute_uri(petition.get_absolute_url()),
        },
        status=status,
    )


@require_safe
def privacy(request):
    return render(request, "petitions/privacy.html")


@never_cache
@require_safe
def healthz(request):
    """For the load balancer: 200 only when this process can reach the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to talk to the database means "take me out"
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return HttpResponse('{"status": "ok", "database": "ok"}', content_type="application/json")

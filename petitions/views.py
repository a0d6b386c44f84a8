from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from signatures import services, supporter
from signatures.forms import SignForm
from signatures.models import SignatureCount

from . import cache
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
    if cache.page_is_shared(request):
        # Most readers of a viral petition: the same page for everyone, rendered once a second
        # per process, with this visitor's own tokens put in.
        html = cache.shared_page(request, slug)
        if html is None:
            petition = cache.public_petition(slug)
            if petition is None:
                raise Http404
            html = render_petition(request, petition, holes=True).content.decode()
            cache.keep_shared_page(request, slug, html)
        return HttpResponse(cache.fill_holes(request, html))
    # Organisers preview drafts on the real page before anyone else can see them.
    visible = (
        Petition.objects.all()
        if request.user.has_perm("petitions.change_petition")
        else Petition.objects.public()
    )
    return render_petition(request, get_object_or_404(visible, slug=slug))


def render_petition(request, petition: Petition, *, form=None, status: int = 200, holes=False):
    """The petition page; also what a sign form with errors is answered with. With `holes`, the
    page everyone gets, with placeholders where each visitor's CSRF token and start time go."""
    language = translation.get_language()
    snapshot = services.count_snapshot(petition)
    remembered = None if holes else supporter.recall(request)
    # "Not you?" asks for the full form; so does a form that came back with errors.
    one_click = remembered is not None and form is None and request.GET.get("form") != "full"
    if form is None:
        form = SignForm(language=language, started=cache.STARTED_HOLE if holes else None)
    context = {
        "petition": petition,
        "text": petition.in_language(language),
        "count": snapshot.count,
        "goal": snapshot.goal,
        "last_signed_at": snapshot.last_signed_at,
        "form": form,
        "remembered": remembered if one_click else None,
        "recent_signers": services.recent_signers(petition),
        "page_url": request.build_absolute_uri(petition.get_absolute_url()),
    }
    if holes:
        context["csrf_token"] = cache.CSRF_HOLE
    return render(request, "petitions/detail.html", context, status=status)


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

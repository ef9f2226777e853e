from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.csrf import csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from directory.ratelimit import rate_limited

from . import referrals
from .filters import ServiceFilter
from .models import Language, Need, Organization, Population, Service
from .places import DEFAULT_RADIUS_MILES
from .search.results import find

PAGE_SIZE = 20
RADIUS_CHOICES = [5, 10, 25, 50, 100]


@require_safe
@rate_limited("search", "SEARCH_PAGE_RATE")
def search(request):
    results = find(request.GET, rows=Service.objects.published().for_results(), per_page=PAGE_SIZE)
    filterset, form = results.filterset, results.filterset.form
    page = page_notice = facets = None
    chips = []
    # An invalid filter shows its error and no results: quietly dropping it would list
    # services the caseworker did not ask for.
    if not results.errors:
        page, page_notice = _get_page(results, request.GET.get("page"))
        facets = results.facets()
        chips = _chips(request.GET, form.cleaned_data)
        if not page.object_list:
            for chip in chips:  # which choices emptied the results
                rest = ServiceFilter(chip.rest, queryset=Service.objects.published())
                chip.would_find = rest.is_valid() and rest.qs.exists()
    counts = facets or {"needs": {}, "populations": {}, "languages": {}}
    context = {
        "filterset": filterset,
        "form": form,
        "page": page,
        "page_notice": page_notice,
        "chips": chips,
        "suggestion": _suggestion(filterset) if not results.errors else None,
        "need_options": _term_tree(Need.objects.all(), form["need"].value(), counts["needs"]),
        "population_options": _term_tree(
            Population.objects.all(), form["population"].value(), counts["populations"]
        ),
        "language_options": [
            {
                "term": language,
                "checked": language.code in (form["language"].value() or []),
                "count": counts["languages"].get(language.code, 0),
            }
            for language in Language.objects.all()
        ],
        "radius_options": _radius_options(request.GET.get("radius", "")),
        "ordering": form["ordering"].value(),
        "filters_chosen": _count_filters(request.GET),
        "facets_shown": bool(page) and facets is not None,
        "referral_ids": referrals.service_ids(request.session),
    }
    return render(request, "resources/search.html", context, status=400 if results.errors else 200)


def _radius_options(chosen):
    """(value, label, selected) for the distance menu: the default first, and a distance
    given in the address kept among the others."""
    values = [str(miles) for miles in RADIUS_CHOICES if miles != DEFAULT_RADIUS_MILES]
    if chosen and chosen not in values:
        values.append(chosen)
    return [
        ("", f"{DEFAULT_RADIUS_MILES} miles", not chosen),
        *((value, f"{value} miles", value == chosen) for value in values),
    ]


@dataclass
class Chip:
    """A filter the search chose, in words, and the same search without it."""

    label: str
    rest: QueryDict
    would_find: bool = False

    @property
    def without(self):
        return "?" + self.rest.urlencode()


def _chips(params, chosen):
    chips = []

    def add(label, key, value=None):
        rest = params.copy()
        rest.pop("page", None)
        if key == "near":
            rest.pop("radius", None)
        kept = [v for v in rest.getlist(key) if value is not None and v != value]
        rest.setlist(key, kept) if kept else rest.pop(key, None)
        chips.append(Chip(label, rest))

    if chosen.get("q"):
        add(f"Words: {chosen['q']}", "q")
    for name in ("need", "population"):
        for term in chosen.get(name) or []:
            add(term.name, name, term.slug)
    for language in chosen.get("language") or []:
        add(f"In {language.name}", "language", language.code)
    if chosen.get("near"):
        radius = chosen.get("radius") or DEFAULT_RADIUS_MILES
        add(f"Within {radius:g} miles of {chosen['near']}", "near")
    if chosen.get("city"):
        add(f"City: {params.get('city', '').strip()}", "city")
    if chosen.get("postal_code"):
        add(f"ZIP code {chosen['postal_code'].code}", "postal_code")
    if chosen.get("state"):
        add(f"State: {chosen['state'].upper()}", "state")
    for name, yes, no in [
        ("nationwide", "Nationwide only", "Not nationwide"),
        ("open_now", "Open now", "Closed now"),
        ("is_24_7", "Open 24/7", "Not open 24/7"),
    ]:
        if chosen.get(name) is not None:
            add(yes if chosen[name] else no, name)
    if chosen.get("organization"):
        add(f"Organization: {chosen['organization'].name}", "organization")
    if chosen.get("modified_after"):
        add(f"Changed after {chosen['modified_after']:%d %b %Y}", "modified_after")
    return chips


def _suggestion(filterset):
    """The words typed with each one the directory does not know replaced by the nearest
    it does ("leagal aid" → "legal aid"), or None."""
    parsed = getattr(filterset, "parsed_query", None)
    if not parsed or not any(clause.corrections for clause in parsed.clauses):
        return None
    words = []
    for clause in parsed.clauses:
        text = clause.corrections[0] if clause.corrections else clause.text
        text = f'"{text}"' if clause.phrase and not clause.synonym else text
        words.append(f"-{text}" if clause.negated else text)
    return " ".join(words)


def _get_page(results, number):
    """The requested page, or the nearest one and a sentence saying why."""
    paginator = results.paginator
    if number in (None, ""):
        return results.page(1), None
    try:
        return results.page(number), None
    except PageNotAnInteger:
        return results.page(1), "That page number was not understood, so this is the first page."
    except EmptyPage:
        if paginator.count == 0:
            return results.page(1), None
        if int(number) < 1:
            return results.page(1), "Pages start at 1, so this is the first page."
        last = paginator.num_pages
        if not paginator.count_exact:
            return results.page(last), (
                f"Only the first {paginator.window:,} results can be paged through, so this "
                "is the last page. Add a need, a population or a place to narrow the search."
            )
        pages = "1 page" if last == 1 else f"{last} pages"
        return results.page(last), f"There are only {pages} of results, so this is the last."


def _count_filters(params):
    """How many filters are chosen (the keywords, page and sort order are not filters)."""
    return sum(
        1
        for key, values in params.lists()
        if key not in {"q", "page", "ordering"}
        for value in values
        if value
    )


def _term_tree(terms, chosen, counts):
    """Nested checkbox options for a taxonomy: [{term, checked, count, children}, ...].
    `counts` maps a term's primary key to its facet count."""
    chosen = set(chosen or [])
    nodes = {
        term.pk: {
            "term": term,
            "checked": term.slug in chosen,
            "count": counts.get(term.pk, 0),
            "children": [],
        }
        for term in terms
    }
    roots = []
    for node in nodes.values():
        parent = nodes.get(node["term"].parent_id)
        (parent["children"] if parent else roots).append(node)
    return roots


@require_safe
def service_detail(request, slug):
    service = get_object_or_404(Service.objects.published().for_display(), slug=slug)
    return render(
        request,
        "resources/service_detail.html",
        {"service": service, "referral_ids": referrals.service_ids(request.session)},
    )


@never_cache
@require_safe
def service_preview(request, slug):
    """A service of any state as its public page would show it, for the curators who may
    see it in the admin: marked as a preview, never cached, never indexed; a 404 to anyone
    else, as if it did not exist."""
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("resources.view_service")):
        raise Http404
    # From the primary: a replica may not have the change just saved yet.
    service = get_object_or_404(Service.objects.using("default").for_display(), slug=slug)
    response = render(
        request,
        "resources/service_detail.html",
        {"service": service, "referral_ids": set(), "preview": True},
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
def organization_detail(request, slug):
    organization = get_object_or_404(Organization, slug=slug)
    services = list(Service.objects.published().for_results().filter(organization=organization))
    # An organization with nothing published is not yet part of the public directory.
    if not services:
        raise Http404("No published services")
    return render(
        request,
        "resources/organization_detail.html",
        {
            "organization": organization,
            "phones": organization.phones.all(),
            "services": services,
            "referral_ids": referrals.service_ids(request.session),
        },
    )


@never_cache
@require_safe
def referral_list(request):
    services = referrals.services(request.session)
    context = {
        "services": services,
        "list_text": _referral_text(request, services),
        "today": timezone.localdate(),
        "site_url": request.build_absolute_uri("/"),
        "hotline": referrals.HOTLINE,
    }
    return render(request, "resources/referral_list.html", context)


@never_cache
@require_safe
def referral_list_text(request):
    response = HttpResponse(
        _referral_text(request, referrals.services(request.session)),
        content_type="text/plain; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="services.txt"'
    return response


def _referral_text(request, services):
    return referrals.as_text(
        services, today=timezone.localdate(), site_url=request.build_absolute_uri("/")
    )


def same_origin(view):
    """Cross-site request forgery, refused without a cookie: the list's buttons are on
    every public page, and Django's token would set a cookie on each, a trace of this site
    on a survivor's device. A browser says where a form post comes from (Sec-Fetch-Site,
    Origin, or the Referer the site's own pages send); a post from another site is refused.
    """

    @csrf_exempt
    @wraps(view)
    def checked(request, *args, **kwargs):
        if request.method in {"GET", "HEAD", "OPTIONS", "TRACE"}:  # reading forges nothing
            return view(request, *args, **kwargs)
        site = request.META.get("HTTP_SEC_FETCH_SITE")
        origin = request.META.get("HTTP_ORIGIN") or _origin(request.META.get("HTTP_REFERER"))
        if site is not None:
            allowed = site in {"same-origin", "none"}
        elif origin is not None:
            allowed = origin in {
                _origin(request.build_absolute_uri("/")),
                *settings.CSRF_TRUSTED_ORIGINS,
            }
        else:
            allowed = True  # not a browser: nothing of a visitor's to forge
        if not allowed:
            return csrf_failure(request, reason="The form was not sent from this site.")
        return view(request, *args, **kwargs)

    return checked


def _origin(url):
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@same_origin
@require_POST
def referral_add(request):
    form = referrals.AddForm(request.POST)
    if not form.is_valid():
        return _referral_error(request, "That service could not be added to the list.")
    service = form.cleaned_data["service"]
    if referrals.add(request.session, service):
        messages.success(request, f"Added {service.name} to your list.")
    else:
        messages.error(
            request,
            f"Your list holds up to {referrals.MAX_SERVICES} services. "
            "Remove one before adding another.",
        )
    return _redirect_back(request)


@same_origin
@require_POST
def referral_remove(request):
    form = referrals.RemoveForm(request.POST)
    if not form.is_valid():
        return _referral_error(request, "That service could not be removed from the list.")
    referrals.remove(request.session, form.cleaned_data["service"])
    messages.success(request, "Removed from your list.")
    return _redirect_back(request)


@same_origin
@require_POST
def referral_clear(request):
    referrals.clear(request.session)
    messages.success(request, "Your list is now empty.")
    return _redirect_back(request)


def _referral_error(request, message):
    services = referrals.services(request.session)
    return render(
        request,
        "resources/referral_list.html",
        {"services": services, "list_text": _referral_text(request, services), "error": message},
        status=400,
    )


def _redirect_back(request):
    """To the page the button was on, if it is on this site; to the list otherwise."""
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("resources:referral_list")
    return HttpResponseRedirect(next_url)


@require_safe
def safety(request):
    return render(request, "resources/safety.html")

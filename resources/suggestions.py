"""The public's "something is wrong or out of date" form, and the queue it feeds.

A suggestion keeps the words and the service, nothing about who sent them: the form sets
no cookie (it is guarded by same_origin, not Django's token) and the rate limit knows a
sender only as a keyed hash in the cache, for the hour.
"""

import math

from django import forms
from django.conf import settings
from django.db.models import Case, When
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from directory.ratelimit import hit

from .models import Service, Suggestion
from .views import same_origin

# The queue's order: the open ones first, the newest first among them.
QUEUE_ORDER = [Case(When(state=Suggestion.State.OPEN, then=0), default=1).asc(), "-created"]


class SuggestionForm(forms.Form):
    message = forms.CharField(
        max_length=Suggestion.MAX_LENGTH,
        error_messages={
            "required": "Say what is wrong or out of date.",
            "max_length": "Keep it to %(limit_value)d characters or fewer (this has "
            "%(show_value)d).",
        },
    )
    # The honeypot: hidden from people (site.css, aria-hidden, its label asks them to leave
    # it empty), filled by robots that fill every field.
    website = forms.CharField(required=False)


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


@same_origin
@require_http_methods(["GET", "HEAD", "POST"])
def suggest(request, slug):
    service = get_object_or_404(Service.objects.published(), slug=slug)
    if request.method != "POST":
        return _form_page(request, service, SuggestionForm())

    verdict = hit("suggest", request, settings.SUGGESTION_RATE)
    if not verdict.allowed:
        response = render(
            request,
            "resources/suggest_limited.html",
            {"service": service, "minutes": math.ceil(verdict.retry_after / 60)},
            status=429,
        )
        response["Retry-After"] = str(verdict.retry_after)
        return response

    form = SuggestionForm(request.POST)
    if not form.is_valid():
        return _form_page(request, service, form, status=400)
    # A robot is thanked like a person, so that it learns nothing from the answer.
    if not form.cleaned_data["website"]:
        Suggestion.objects.create(service=service, message=form.cleaned_data["message"])
    return HttpResponseSeeOther(reverse("resources:suggest_thanks", args=[service.slug]))


def _form_page(request, service, form, status=200):
    return render(
        request, "resources/suggest.html", {"service": service, "form": form}, status=status
    )


@require_safe
def suggest_thanks(request, slug):
    service = get_object_or_404(Service.objects.published(), slug=slug)
    return render(request, "resources/suggest_thanks.html", {"service": service})


def set_state(suggestion, state, *, by):
    """Resolve, dismiss or reopen `suggestion` (saved by the caller): a closed one says
    who closed it and when, an open one neither."""
    closed = state != Suggestion.State.OPEN
    suggestion.state = state
    suggestion.resolved_by = by if closed else None
    suggestion.resolved_at = timezone.now() if closed else None


def close(suggestions, state, *, by):
    """Resolve or dismiss each of `suggestions` (a queryset) not already so; returns those
    it changed."""
    changed = list(suggestions.exclude(state=state))
    for suggestion in changed:
        set_state(suggestion, state, by=by)
    Suggestion.objects.bulk_update(changed, ["state", "resolved_by", "resolved_at"])
    return changed

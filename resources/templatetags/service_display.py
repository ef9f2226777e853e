"""The template filters of the public pages: resources.display's, and the page's own."""

from django import template
from django.conf import settings

from resources import display, referrals
from resources.filters import StrictBooleanField

register = template.Library()

register.filter("all_schedules", display.all_schedules)
register.filter("weekly_hours", display.weekly_hours)
register.filter("place_summary", display.place_summary)
register.filter("where_lines", display.where_lines)
register.filter("contact_phones", display.contact_phones)
register.filter("website", display.website)
register.filter("phone_href", display.phone_href)
register.filter("phone_verb", display.phone_verb)
register.filter("is_stale", display.is_stale)
register.filter("open_status", display.open_status)
register.filter("contact_actions", display.contact_actions)
register.filter("miles", display.miles)


@register.filter
def is_yes(value):
    """Whether a true/false parameter, as typed in the address, says true."""
    return StrictBooleanField.VALUES.get(str(value).lower()) is True


@register.filter
def on_list(service, ids):
    return str(service.pk) in ids


@register.simple_tag(takes_context=True)
def referral_count(context):
    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return 0
    return len(referrals.service_ids(request.session))


@register.simple_tag
def quick_exit_url():
    return settings.QUICK_EXIT_URL

"""How a service's hours, places and phones read: on the public pages (through the
service_display template filters) and in the referral list's text alike.

Everything here works on what Service.objects.for_results() or for_display() has already
loaded (through the Listed attributes), so a page of results costs no extra queries.
"""

import datetime
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.template.defaultfilters import time as format_time
from django.utils import timezone

from .models import Address, Location, Phone

# Information a curator has not confirmed for this long is flagged on the service page.
STALE_AFTER = datetime.timedelta(days=365)


DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DAY_ABBREVIATIONS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def clock(moment):
    """A time as people say it: 9 a.m., 9:30 a.m., noon, midnight."""
    return format_time(moment, "P")


def _span(schedule):
    return f"{clock(schedule.opens_at)}–{clock(schedule.closes_at)}"


def all_schedules(service):
    """The service's own hours and those of its locations."""
    schedules = list(service.schedule_list)
    for link in service.link_list:
        schedules.extend(link.location.schedule_list)
    return schedules


@dataclass(frozen=True)
class OpenStatus:
    is_open: bool
    text: str


def open_status(service, now=None):
    """Whether the service is open now and until when, or when it opens next, from its
    own hours and its locations': None when it gives no weekly hours."""
    schedules = all_schedules(service)
    if any(s.open_24_7 for s in schedules):
        return OpenStatus(True, "Open 24/7")
    spans = sorted((s.weekday, s.opens_at, s.closes_at) for s in schedules if s.weekday is not None)
    if not spans:
        return None
    now = timezone.localtime(now)
    today, time = now.isoweekday(), now.time()
    todays = [(opens, closes) for day, opens, closes in spans if day == today]
    current = [closes for opens, closes in todays if opens <= time < closes]
    if current:
        closes = max(current)
        # A span that starts as another ends keeps it open.
        while any(opens <= closes < later for opens, later in todays):
            closes = max(later for opens, later in todays if opens <= closes < later)
        return OpenStatus(True, f"Open now, closes {clock(closes)}")
    for ahead in range(8):
        day = (today - 1 + ahead) % 7 + 1
        openings = [opens for d, opens, _ in spans if d == day and (ahead or opens > time)]
        if openings:
            when = "today" if ahead == 0 else "tomorrow" if ahead == 1 else DAY_NAMES[day - 1]
            return OpenStatus(False, f"Opens {when} {clock(min(openings))}")
    return None


def _in_week(schedule):
    return (schedule.weekday or 0, schedule.opens_at or datetime.time())


def weekly_hours(schedules):
    """The week in a few lines, days with the same hours together: "Mon–Fri 9 a.m.–5 p.m.",
    "Sat, Sun 10 a.m.–2 p.m.", "Open 24/7", then the curators' notes."""
    lines = []
    if any(s.open_24_7 for s in schedules):
        lines.append("Open 24/7")
    by_day = {day: [] for day in range(1, 8)}
    for schedule in sorted(schedules, key=_in_week):
        if schedule.weekday is not None and _span(schedule) not in by_day[schedule.weekday]:
            by_day[schedule.weekday].append(_span(schedule))
    run = []
    for day in range(1, 9):
        hours = by_day.get(day)
        if run and hours != by_day[run[0]]:
            if by_day[run[0]]:
                lines.append(f"{_days(run)} {', '.join(by_day[run[0]])}")
            run = []
        if hours is not None:
            run.append(day)
    lines += list(dict.fromkeys(s.notes for s in sorted(schedules, key=_in_week) if s.notes))
    return lines


def _days(days):
    names = [DAY_ABBREVIATIONS[day - 1] for day in days]
    return f"{names[0]}–{names[-1]}" if len(names) > 2 else ", ".join(names)


@dataclass(frozen=True)
class Contact:
    verb: str  # Call, Text, Chat, Website...
    label: str
    href: str


def contact_actions(service):
    """How to reach the service, most direct first: its phones (call, text, ...), its
    chat, its website."""
    actions = [
        Contact(phone_verb(phone), phone.number, phone_href(phone))
        for phone in contact_phones(service)
        if phone.type != Phone.Type.FAX
    ]
    if getattr(service, "chat_url", ""):
        actions.append(Contact("Chat", "online", service.chat_url))
    if website(service):
        actions.append(Contact("Website", _host(website(service)), website(service)))
    return actions


def _host(url):
    return urlsplit(url).netloc.removeprefix("www.")


def miles(distance):
    """A distance for a card: "0.4 miles", "3.2 miles", "12 miles", "1.0 mile"."""
    if distance is None:
        return ""
    if distance < 0.05:
        return "under 0.1 miles"
    amount = f"{distance:.1f}" if distance < 10 else f"{distance:.0f}"
    return f"{amount} mile{'' if amount in {'1', '1.0'} else 's'}"


def place_summary(service):
    """Where it is offered, in short: ['Nationwide'], ['Chicago, IL', 'Online or by phone']."""
    places = [str(area) for area in service.area_list]
    for link in service.link_list:
        location = link.location
        if location.confidential:
            places.append("Confidential location")
        elif location.location_type == Location.Type.VIRTUAL:
            places.append("Online or by phone")
        else:
            places.extend(f"{a.city}, {a.state_province}" for a in location.public_addresses)
    return list(dict.fromkeys(places))


def where_lines(service):
    """Full public addresses and the areas served, for the printed and copied list."""
    lines = []
    for link in service.link_list:
        location = link.location
        addresses = location.public_addresses
        if location.confidential:
            lines.append("Address withheld for safety: contact the service first")
        elif addresses:
            lines.extend(_address_line(address) for address in addresses)
        elif location.location_type == Location.Type.VIRTUAL:
            lines.append("Online or by phone")
    lines.extend(f"Serves: {area}" for area in service.area_list)
    return list(dict.fromkeys(lines))


def _address_line(address):
    street = ", ".join(part for part in (address.address_1, address.address_2) if part)
    line = f"{street}, {address.city}, {address.state_province} {address.postal_code}"
    return f"Mail: {line}" if address.address_type == Address.Type.POSTAL else line


def contact_phones(service):
    """The service's own phones, then its locations' phones, each number once."""
    phones = list(service.phone_list)
    for link in service.link_list:
        phones.extend(link.location.phone_list)
    seen, unique = set(), []
    for phone in phones:
        key = (phone.number, phone.extension, phone.type)
        if key not in seen:
            seen.add(key)
            unique.append(phone)
    return unique


def website(service):
    """The service's own web page, else its organization's."""
    if service.url:
        return service.url
    return service.organization.website if service.organization else ""


def phone_href(phone):
    """tel: for calls; sms: for a text line, so a tap opens a new message."""
    if phone.type == Phone.Type.TEXT:
        return "sms:" + phone.tel_uri.removeprefix("tel:")
    return phone.tel_uri


def phone_verb(phone):
    return {Phone.Type.TEXT: "Text", Phone.Type.FAX: "Fax", Phone.Type.VIDEO: "Video call"}.get(
        phone.type, "Call"
    )


def is_stale(day):
    return day is not None and timezone.localdate() - day > STALE_AFTER

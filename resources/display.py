"""How a service's hours, places and phones read: on the public pages (through the
service_display template filters) and in the referral list's text alike.

Everything here works on what Service.objects.for_results() or for_display() has already
loaded (through the Listed attributes), so a page of results costs no extra queries.
"""

import datetime

from django.template.defaultfilters import time as format_time
from django.utils import timezone

from .models import Address, Location, Phone

# Information a curator has not confirmed for this long is flagged on the service page.
STALE_AFTER = datetime.timedelta(days=365)


def _span(schedule):
    opens = format_time(schedule.opens_at, "g:i a")
    closes = format_time(schedule.closes_at, "g:i a")
    return f"{opens}–{closes}"


def all_schedules(service):
    """The service's own hours and those of its locations."""
    schedules = list(service.schedule_list)
    for link in service.link_list:
        schedules.extend(link.location.schedule_list)
    return schedules


def todays_hours(service):
    """'Open 24/7', 'Today 9:00 a.m.–5:00 p.m.', 'Closed today', a curator's note, or ''."""
    schedules = all_schedules(service)
    if any(s.open_24_7 for s in schedules):
        return "Open 24/7"
    today = timezone.localdate().isoweekday()
    spans = [_span(s) for s in schedules if s.weekday == today]
    if spans:
        return "Today " + ", ".join(spans)
    if any(s.weekday for s in schedules):
        return "Closed today"
    notes = [s.notes for s in schedules if s.notes]
    return notes[0] if notes else ""


def weekly_hours(schedules):
    """One line per schedule row, in weekday order, with its note."""
    lines = []
    in_order = sorted(schedules, key=lambda s: (s.weekday or 0, s.opens_at or datetime.time()))
    for schedule in in_order:
        if schedule.open_24_7:
            line = "Open 24/7"
        elif schedule.weekday:
            line = f"{schedule.get_weekday_display()} {_span(schedule)}"
        else:
            line = ""
        if schedule.notes:
            line = f"{line} ({schedule.notes})" if line else schedule.notes
        lines.append(line)
    return lines


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

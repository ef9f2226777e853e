"""The referral list a caseworker gathers to hand over, kept in the session.

Only service ids are stored, never anything about the client, and the session is set
to end when the browser closes, so a shared computer does not keep the list.
"""

from django import forms
from django.utils.dateformat import format as format_date

from .display import all_schedules, contact_phones, phone_verb, website, weekly_hours, where_lines
from .models import Service

SESSION_KEY = "referral_list"
HOTLINE = "National Human Trafficking Hotline, any time: call 1-888-373-7888 or text 233733."
MAX_SERVICES = 50


class AddForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.published())


class RemoveForm(forms.Form):
    # Not limited to published services: one unpublished since it was added can still go.
    service = forms.UUIDField()


def service_ids(session):
    return list(session.get(SESSION_KEY, []))


def add(session, service):
    """Add `service`; False when the list is already full."""
    ids = service_ids(session)
    if str(service.pk) in ids:
        return True
    if len(ids) >= MAX_SERVICES:
        return False
    session[SESSION_KEY] = [*ids, str(service.pk)]
    session.set_expiry(0)
    return True


def remove(session, service_id):
    session[SESSION_KEY] = [pk for pk in service_ids(session) if pk != str(service_id)]


def clear(session):
    session.pop(SESSION_KEY, None)


def services(session):
    """The listed services still published, in the order they were added."""
    ids = service_ids(session)
    if not ids:
        return []
    found = {str(s.pk): s for s in Service.objects.published().for_display().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


def as_text(services, *, today, site_url):
    """The list as plain text, to paste into a text message or an e-mail."""
    lines = [f"Services to contact ({format_date(today, 'j F Y')})", ""]
    for number, service in enumerate(services, start=1):
        lines.append(f"{number}. {service.name}")
        details = [service.organization.name] if service.organization else []
        for phone in contact_phones(service):
            text = f"{phone_verb(phone)} {phone.number}"
            if phone.extension:
                text += f" ext. {phone.extension}"
            if phone.description:
                text += f" – {phone.description}"
            details.append(text)
        hours = weekly_hours(all_schedules(service))
        if hours:
            details.append("Hours: " + "; ".join(hours))
        details.extend(where_lines(service))
        if service.chat_url:
            details.append(f"Chat: {service.chat_url}")
        if website(service):
            details.append(f"Website: {website(service)}")
        if service.email:
            details.append(f"E-mail: {service.email}")
        if service.last_verified:
            details.append(f"Details checked: {format_date(service.last_verified, 'j F Y')}")
        lines.extend(f"   {detail}" for detail in details)
        lines.append("")
    lines.append("Hours and details can change: call before going.")
    lines.append(f"From the Survivor support directory, {site_url}")
    lines.append(HOTLINE)
    return "\n".join(lines) + "\n"

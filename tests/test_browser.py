"""The public pages in a real Chromium, driven by Playwright against the live server."""

import importlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from playwright.sync_api import expect, sync_playwright

from resources.shipped import load_shipped

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
NEUTRAL_PAGE = re.compile(r"^https://www\.google\.com/search")

pytestmark = pytest.mark.browser


def unavailable(reason):
    """Skip on a machine without the tools; CI sets REQUIRE_BROWSER=1 to fail instead."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is absent: apt-get install chromium to run the browser tests")
    # Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse
    # the tests' own database queries (SynchronousOnlyOperation); they are not async here.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def site(live_server, transactional_db):
    load_shipped()
    return live_server.url


@dataclass
class Tab:
    page: object
    base: str
    requests: list = field(default_factory=list)

    def open(self, path):
        response = self.page.goto(self.base + path)
        assert response.status < 500, path
        return response

    def other_hosts(self):
        host = urlsplit(self.base).netloc
        return [url for url in self.requests if urlsplit(url).netloc != host]


def open_tab(browser, site, **context_options):
    context_options.setdefault("viewport", {"width": 1280, "height": 900})
    context = browser.new_context(service_workers="block", **context_options)
    tab = Tab(context.new_page(), site)
    tab.page.on("request", lambda request: tab.requests.append(request.url))
    host = urlsplit(site).netloc

    # Nothing may leave the machine, even by mistake: every other host is refused here
    # (and recorded above, so a test can say it was never asked for).
    def only_this_site(route):
        if urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_this_site)
    return tab


@pytest.fixture
def tab(browser, site):
    tab = open_tab(browser, site)
    yield tab
    tab.page.context.close()


def submit(page, control):
    """Click a control that loads a new page, and wait for that page."""
    with page.expect_navigation():
        control.click()


def stand_in_for_the_neutral_page(tab):
    """Answer the quick exit's request locally, as if the neutral site had loaded; the
    headers of each request it answered are kept in the list returned."""
    seen = []

    def answer(route):
        seen.append(route.request.all_headers())
        route.fulfill(
            status=200, content_type="text/html", body="<title>Weather</title><p>Sunny</p>"
        )

    tab.page.route(NEUTRAL_PAGE, answer)
    return seen


def test_it_finds_a_seed_program_by_need_and_population(tab):
    page = tab.page
    tab.open("/")
    page.locator("#need-case-management").check()
    page.locator("#population-foreign-nationals").check()
    submit(page, page.get_by_role("button", name="Show results"))

    assert "need=case-management" in page.url
    assert "population=foreign-nationals" in page.url
    result = page.locator("#s-iom-victim-identification")
    assert result.is_visible()
    assert result.get_by_role("link", name=re.compile("IOM|Organization for Migration")).count()
    assert page.locator("#population-foreign-nationals").is_checked()

    page.get_by_label("Keywords").fill("hotline")
    with page.expect_navigation():
        page.get_by_label("Keywords").press("Enter")
    assert "q=hotline" in page.url
    assert "need=case-management" in page.url  # the filters stay on


def test_it_leaves_with_the_quick_exit_button_without_a_way_back(tab):
    exits = stand_in_for_the_neutral_page(tab)
    page = tab.page
    tab.open("/safety/")
    tab.open("/?q=legal")
    assert page.get_by_role("link", name="Quick exit").is_visible()

    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url(NEUTRAL_PAGE)

    assert page.title() == "Weather"
    # The neutral site is not told where the visitor was (nor what they searched for).
    assert len(exits) == 1 and "referer" not in exits[0]
    page.go_back()
    # The search page was replaced, not left behind: Back skips it.
    assert page.url == tab.base + "/safety/"


def test_escape_in_a_box_with_text_clears_it_and_escape_elsewhere_leaves(tab):
    exits = stand_in_for_the_neutral_page(tab)
    page = tab.page
    tab.open("/safety/")
    tab.open("/")
    keywords = page.get_by_label("Keywords")
    keywords.fill("t visa")
    page.keyboard.press("Escape")  # a caseworker clearing the box: stays
    assert keywords.input_value() == ""
    near = page.get_by_label("Near")
    near.fill("60601")
    near.press("Escape")
    assert near.input_value() == "" and page.url == tab.base + "/"
    assert exits == []

    page.keyboard.press("Escape")  # in the box, now empty: leaves
    page.wait_for_url(NEUTRAL_PAGE)
    assert len(exits) == 1 and "referer" not in exits[0]
    page.go_back()
    assert page.url == tab.base + "/safety/"


def test_shift_pressed_three_times_leaves(tab):
    stand_in_for_the_neutral_page(tab)
    page = tab.page
    tab.open("/?q=legal")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.press("a")  # another key between: no exit
    page.keyboard.press("Shift")
    assert page.url.startswith(tab.base)
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(NEUTRAL_PAGE)


def test_it_never_tells_other_sites_where_a_visitor_came_from(tab):
    page = tab.page
    tab.open("/services/national-human-trafficking-hotline/")
    outbound = page.locator("main a[href^='https://']").first
    target = outbound.get_attribute("href")
    assert set(outbound.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
    seen = []

    def record(route):
        seen.append(route.request.headers)
        route.fulfill(status=200, content_type="text/html", body="<title>Provider</title>")

    page.route(target, record)
    stand_in_for_the_neutral_page(tab)
    outbound.click()
    page.wait_for_url(target)
    page.go_back()
    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url(NEUTRAL_PAGE)

    assert seen and all("referer" not in headers for headers in seen)
    assert tab.requests[-1].startswith("https://www.google.com/")


def test_a_curator_signs_in_to_the_admin(tab):
    User.objects.create_user("curator", password="a long pass phrase", is_staff=True)
    page = tab.page
    tab.open("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("curator")
    page.get_by_label("Password").fill("a long pass phrase")
    submit(page, page.get_by_role("button", name="Log in"))

    assert page.url == tab.base + "/admin/"
    expect(page.get_by_role("heading", name="Curation")).to_be_visible()


def sign_in_as(tab, group):
    # Each browser test empties the database after it, the groups the migration made too.
    if not Group.objects.filter(name=group).exists():
        migration = importlib.import_module("resources.migrations.0020_curator_groups")
        migration.create_groups(apps, connection.schema_editor())
    user = User.objects.create_user(group.lower(), password="a long pass phrase", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    page = tab.page
    tab.open("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("a long pass phrase")
    submit(page, page.get_by_role("button", name="Log in"))


def test_an_editor_adds_a_service_its_organization_and_weekday_hours_in_one_form(tab):
    sign_in_as(tab, "Editors")
    page = tab.page
    tab.open("/admin/resources/service/add/")
    page.get_by_label("Name:", exact=True).fill("Evening legal clinic")
    page.get_by_label("Or a new organization").fill("Riverside Survivors Legal Project")
    page.get_by_label("Source url").fill("https://example.org/riverside")
    page.locator("#schedules-group .add-row a").click()
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        page.locator("#schedules-0").get_by_label(day, exact=True).check()
    page.locator("#id_schedules-0-opens_at").fill("17:00")
    page.locator("#id_schedules-0-closes_at").fill("20:00")
    assert page.locator(".timezonewarning").count() == 0
    submit(page, page.get_by_role("button", name="Save", exact=True))

    expect(page.locator(".messagelist")).to_contain_text("Added the organization")
    submit(page, page.locator("#result_list").get_by_role("link", name="Evening legal clinic"))
    expect(page.locator("#schedules-group tbody tr.has_original")).to_have_count(5)
    submit(page, page.get_by_role("button", name="Submit for review"))
    expect(page.locator(".messagelist")).to_contain_text("Submitted for review")


def test_a_reviewer_reads_state_verification_and_suggestions_without_scrolling_sideways(tab):
    sign_in_as(tab, "Reviewers")
    tab.open("/admin/resources/service/")
    page = tab.page
    for heading in ("State", "Verified", "Suggestions"):
        expect(page.locator("#result_list thead")).to_contain_text(heading)
    widths = page.evaluate(
        "[...document.querySelectorAll('.results, html')].map(e => e.scrollWidth - e.clientWidth)"
    )
    assert widths == [0, 0]


def test_a_caseworker_searches_in_their_words_near_a_place_then_widens(tab):
    page = tab.page
    tab.open("/")
    page.get_by_label("Keywords").fill("counseling")
    submit(page, page.get_by_role("button", name="Search", exact=True))
    first = page.locator(".result").first
    expect(first.locator(".badge-open")).to_have_text("Open 24/7")
    expect(first.locator(".contact-actions a").first).to_have_attribute("href", re.compile("^tel:"))

    page.get_by_label("Near").fill("Chicago, IL")  # the filters are open on a wide screen
    page.get_by_label("Within").select_option("10")
    submit(page, page.get_by_role("button", name="Show results"))
    chip = page.get_by_role("link", name=re.compile(r"^Within 10 miles of Chicago, IL"))
    expect(chip).to_be_visible()
    assert "near=Chicago%2C+IL" in page.url and "q=counseling" in page.url

    submit(page, chip)  # removes the place, keeps the words
    assert "near=" not in page.url and "radius=" not in page.url and "q=counseling" in page.url
    expect(page.locator(".result")).not_to_have_count(0)


def test_an_empty_search_says_which_choice_to_drop_and_where_else_to_turn(tab):
    page = tab.page
    tab.open("/?need=legal-aid&language=ko")
    expect(page.get_by_text("No services match all of these choices.")).to_be_visible()
    expect(page.get_by_role("link", name="1-888-373-7888").first).to_be_visible()
    widen = page.get_by_role("link", name="Without “In Korean”")
    expect(page.locator(".widen li", has=widen)).to_contain_text("finds services")
    submit(page, widen)
    assert "language=ko" not in page.url
    expect(page.locator(".result")).not_to_have_count(0)


def test_a_misspelt_search_offers_the_word_it_meant(tab):
    page = tab.page
    tab.open("/?q=theraphy")
    link = page.get_by_role("link", name="therapy")
    expect(link).to_be_visible()
    submit(page, link)
    assert page.url.endswith("/?q=therapy")


def test_the_list_goes_to_the_caseworkers_own_text_or_mail_program(tab):
    page = tab.page
    tab.open("/services/988-suicide-crisis-lifeline/")
    submit(page, page.get_by_role("button", name=re.compile("^Add .* to list$")))
    tab.open("/list/")
    text = page.get_by_role("textbox", name="Text to copy").input_value()
    sms = page.get_by_role("link", name="Send by text").get_attribute("href")
    mail = page.get_by_role("link", name="Send by e-mail").get_attribute("href")
    assert sms.startswith("sms:") and unquote(sms.split("body=", 1)[1]) == text
    assert mail.startswith("mailto:?subject=Services%20to%20contact")
    assert unquote(mail.split("body=", 1)[1]) == text
    assert "988 Suicide & Crisis Lifeline" in text and "1-888-373-7888" in text


def test_it_can_be_used_from_the_keyboard(tab):
    page = tab.page
    tab.open("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quick-exit"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_it_adds_to_and_prints_the_referral_list(tab):
    page = tab.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tab.base)
    tab.open("/?ordering=name")
    submit(page, page.get_by_role("button", name="Add National Human Trafficking Hotline to list"))
    expect(
        page.get_by_text("Added National Human Trafficking Hotline to your list.")
    ).to_be_visible()
    assert "ordering=name" in page.url  # back where the caseworker was
    submit(page, page.get_by_role("button", name=re.compile("^Add IOM")))
    tab.open("/services/caase-legal-services/")
    submit(page, page.get_by_role("button", name=re.compile("^Add .* to list$")))
    assert page.url == tab.base + "/services/caase-legal-services/"
    expect(page.get_by_text("On your list")).to_be_visible()

    tab.open("/list/")
    expect(page.locator(".referral")).to_have_count(3)
    expect(page.get_by_role("link", name=re.compile(r"Your list \(3\)"))).to_be_visible()
    text = page.get_by_role("textbox", name="Text to copy").input_value()
    assert "National Human Trafficking Hotline" in text and "1-888-373-7888" in text
    page.get_by_role("button", name="Copy").click()
    expect(page.locator(".copy-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == text

    page.emulate_media(media="print")
    for hidden in (".site-header", "#quick-exit", ".list-actions", ".copy-text", ".site-footer"):
        assert page.locator(hidden).is_hidden(), hidden
    assert all(button.is_hidden() for button in page.get_by_role("button").all())
    assert page.locator(".referral").first.is_visible()
    pdf = page.pdf(format="Letter")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) <= 2  # one or two sheets
    page.emulate_media(media="screen")

    submit(page, page.get_by_role("button", name=re.compile("^Remove National Human")))
    expect(page.locator(".referral")).to_have_count(2)
    submit(page, page.get_by_role("button", name="Clear list"))
    expect(page.get_by_text("Your list is empty.")).to_be_visible()


def test_it_hides_the_filters_when_printing_results(tab):
    page = tab.page
    tab.open("/?need=legal-aid")
    page.emulate_media(media="print")
    for hidden in (".filter-panel", ".keyword-bar", ".sort", "#quick-exit", ".site-header"):
        assert page.locator(hidden).is_hidden(), hidden
    assert all(button.is_hidden() for button in page.get_by_role("button").all())
    assert page.locator("#s-caase-legal-services").is_visible()


def test_it_makes_no_request_to_any_other_host(tab):
    page = tab.page
    for path in (
        "/",
        "/?need=legal-aid&population=women&q=legal",
        "/?need=not-a-need",
        "/services/national-human-trafficking-hotline/",
        "/organizations/chicago-alliance-against-sexual-exploitation/",
        "/no-such-page/",
        "/safety/",
        "/?q=legal",
    ):
        tab.open(path)
        page.wait_for_load_state("networkidle")
    submit(page, page.get_by_role("button", name=re.compile("^Add .* to list$")).first)
    tab.open("/list/")
    page.wait_for_load_state("networkidle")

    assert tab.requests, "no request was recorded at all"
    assert tab.other_hosts() == []


def test_it_works_without_javascript(browser, site):
    tab = open_tab(browser, site, java_script_enabled=False)
    page = tab.page
    try:
        tab.open("/")
        page.locator("summary", has_text="Filters").click()
        page.locator("#need-legal-aid").check()
        submit(page, page.get_by_role("button", name="Show results"))
        assert "need=legal-aid" in page.url
        assert page.locator("#s-caase-legal-services").is_visible()
        submit(page, page.get_by_role("button", name=re.compile("^Add CAASE")))
        assert "need=legal-aid" in page.url
        tab.open("/list/")
        assert page.locator(".referral").count() == 1
        assert page.get_by_role("button", name="Copy").is_hidden()  # shown only by JavaScript
        # The keys only JavaScript answers are not promised; the button still leaves.
        assert page.get_by_text("Esc", exact=False).count() == 0 or all(
            not element.is_visible() for element in page.get_by_text("Esc").all()
        )
        assert page.get_by_role("link", name="Quick exit").is_visible()
    finally:
        page.context.close()


# Elements whose right edge passes the padding of <main>: cut off or crowding the edge.
STICKING_OUT_OF_MAIN = """() => {
    const main = document.querySelector("main");
    const padding = parseFloat(getComputedStyle(main).paddingRight);
    const edge = main.getBoundingClientRect().right - padding;
    return [...main.querySelectorAll("*")]
        .filter((el) => el.getClientRects().length && !el.closest(".visually-hidden"))
        .filter((el) => el.getBoundingClientRect().right > edge + 1)
        .map((el) => el.tagName + "." + el.className);
}"""


@pytest.mark.parametrize("width", [375, 1280])
def test_it_fits_the_screen(browser, site, width):
    tab = open_tab(browser, site, viewport={"width": width, "height": 800})
    try:
        for path in (
            "/?need=legal-aid",
            "/?q=counseling&near=60601&language=es",
            "/?need=legal-aid&language=ko",
            "/services/caase-legal-services/",
            "/list/",
            "/safety/",
        ):
            tab.open(path)
            overflow = tab.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (path, overflow)
            assert tab.page.evaluate(STICKING_OUT_OF_MAIN) == [], path
        assert tab.page.locator("#quick-exit").is_visible()
    finally:
        tab.page.context.close()


def overlaps(a, b):
    return not (
        a["y"] >= b["y"] + b["height"]
        or a["y"] + a["height"] <= b["y"]
        or a["x"] >= b["x"] + b["width"]
        or a["x"] + a["width"] <= b["x"]
    )


def test_on_a_phone_the_quick_exit_never_covers_a_result_title(browser, site):
    tab = open_tab(browser, site, viewport={"width": 375, "height": 700})
    try:
        page = tab.page
        tab.open("/?ordering=name")
        bar = page.locator(".quick-exit-bar")
        titles = page.locator(".result h3")
        assert titles.count() > 3
        for index in range(titles.count()):
            title = titles.nth(index)
            # As after "Add to list", which brings the caseworker back to the result.
            slug = title.get_attribute("id").removeprefix("t-")
            page.evaluate(f"location.hash = 's-{slug}'")
            assert not overlaps(title.bounding_box(), bar.bounding_box()), slug
        page.mouse.wheel(0, 900)  # anywhere while scrolling, the bar stays out of the way
        for index in range(titles.count()):
            box = titles.nth(index).bounding_box()
            if box["y"] > bar.bounding_box()["y"] + bar.bounding_box()["height"]:
                assert not overlaps(box, page.locator("#quick-exit").bounding_box())
    finally:
        tab.page.context.close()


def axe_violations(page):
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run()")
    return [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def tab_for_axe(browser, site):
    # axe is injected as an inline script, which the site's own CSP would refuse.
    tab = open_tab(browser, site, bypass_csp=True)
    yield tab
    tab.page.context.close()


def test_it_has_no_serious_accessibility_violations(tab_for_axe):
    if not AXE.exists():
        unavailable(f"{AXE} is absent: run `npm ci` to install axe-core")
    tab = tab_for_axe
    page = tab.page
    tab.open("/services/national-human-trafficking-hotline/")
    submit(page, page.get_by_role("button", name=re.compile("^Add .* to list$")))

    for path in (
        "/?need=legal-aid&population=women",
        "/?q=counseling",
        "/?near=60601&radius=10",
        "/?need=legal-aid&language=ko&open_now=true",
        "/?q=theraphy",
        "/?near=99999&radius=abc",
        "/?state=XYZ&q=visa",
        "/services/caase-legal-services/",
        "/organizations/national-human-trafficking-hotline/",
        "/list/",
        "/safety/",
    ):
        tab.open(path)
        assert axe_violations(page) == [], path

"""The partner's figures and actions in a real browser, on the whole system seeded through
activity-ingest: tier and chart, breakdown filters and a figure's derivation, the calculator's
worked example, team, remove access by typing REMOVE, register then bulk deregister, end services
through a dialog used from the keyboard alone."""

from playwright.async_api import Page
from portal_browser import Browsing, browsing, served
from portal_support import AS_OF, Settings5, System, system, world_settled

from keel.auth import Scope
from keel.testing.plugin import MakeToken

# March's rollup (T3: evaluated on 2025-03-15) is the tier in force on AS_OF.
ROLLED_MONTH = "2025-03"


async def _figures(page: Page, web: Browsing) -> None:
    await page.goto(f"/partners/p-1/tier?as_of={AS_OF}")
    await web.check(page, "tier")
    main = await page.inner_text("main")
    assert ROLLED_MONTH in main
    chart = page.get_by_role("img", name="Points per track against the next tier")
    assert await chart.locator("line").count() >= 1  # the next tier's line, labelled
    assert "Next tier" in (await chart.text_content() or "")
    await page.get_by_label("Tier", exact=True).select_option(index=0)
    await page.get_by_role("button", name="Show what it needs").click()
    assert await page.get_by_role("table", name="What").count() == 1

    await page.goto(f"/partners/p-1/breakdown?as_of={AS_OF}")
    await web.check(page, "breakdown")
    rows = page.get_by_role("table", name="Points per client").locator("tbody tr")
    assert await rows.count() >= 1
    first = await rows.first.get_by_role("link").first.inner_text()
    await rows.first.get_by_role("link").first.click()
    assert await page.get_by_role("heading", name=f"History of {first}").is_visible()
    progress = page.get_by_role("img", name="Total points per month")
    assert "projected" in (await progress.text_content() or "")
    # A figure explains itself: derivation with rule ids and policy versions.
    await page.get_by_role("link", name="How is this figure derived?").first.click()
    await page.wait_for_url("**/explain**")
    await web.check(page, "explain")
    derivation = await page.get_by_role("list").filter(has_text="T3").inner_text()
    assert f"T3: {ROLLED_MONTH} evaluated on 2025-03-15" in derivation
    assert "M7:" in derivation
    versions = page.get_by_role("table", name="Policy versions")
    assert "rates" in await versions.inner_text()
    await page.go_back()

    await page.get_by_label("Deal type").select_option("sourced")
    await page.get_by_label("Market type").select_option("growth")
    await page.get_by_role("button", name="Filter").first.click()
    await page.wait_for_url("**deal_type=sourced&market_type=growth**")
    assert "No clients match." in await page.inner_text("main")

    # Tier point changes over a range (D6), from the portal's own route.
    await page.get_by_label("From", exact=True).fill("2025-02-01")
    await page.get_by_label("To", exact=True).fill(AS_OF)
    await page.get_by_role("button", name="Show changes").click()
    changes = page.get_by_role("table", name="Point changes from")
    assert "New managed points" in await changes.inner_text()

    # T6 worked example: US$1,000 sourced, managed with one other partner = 50 sold + 5 managed.
    await page.goto("/partners/p-1/calculator")
    await page.get_by_label("Currency").select_option("USD")
    await page.get_by_label("Client's country").select_option("US")
    await page.get_by_label("MRR of the deal").fill("1000")
    await page.get_by_label("We will manage the client").check()
    await page.get_by_label("Other managing partners").fill("1")
    await page.get_by_role("button", name="Calculate").click()
    await page.wait_for_load_state()
    assert await page.locator("[data-figure=sold_points]").inner_text() == "50.00"
    assert await page.locator("[data-figure=managed_points]").inner_text() == "5.00"
    await web.check(page, "calculator")
    await page.get_by_role("link", name="Currency", exact=True).click()
    await page.get_by_label("Sold").fill("50")
    await page.get_by_role("button", name="Calculate").click()
    assert await page.locator("[data-figure=sold_value]").inner_text() == "$1,000.00"

    await page.goto("/partners/p-1/team")
    await web.check(page, "team")
    mail = page.get_by_role("link", name="pat@vendor.example")
    assert (await mail.get_attribute("href") or "").startswith("mailto:pat@vendor.example")


async def _remove_access(page: Page, web: Browsing) -> None:
    await page.goto(f"/partners/p-1/employees?user=u-1&as_of={AS_OF}")
    await web.check(page, "employees")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="c-3"))
    await row.get_by_role("button", name="Remove access").click()
    dialog = page.get_by_role("dialog")
    confirm = dialog.get_by_role("button", name="Remove access")
    await dialog.get_by_label("Type REMOVE to confirm").fill("remove")
    assert await confirm.is_disabled()
    # The server refuses a wrong word too, even from a button forced on.
    await confirm.evaluate("button => { button.disabled = false }")
    await confirm.click()
    await page.wait_for_load_state()
    assert "Confirmation" in await page.inner_text("main")
    await page.goto(f"/partners/p-1/employees?user=u-1&as_of={AS_OF}")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="c-3"))
    await row.get_by_role("button", name="Remove access").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Type REMOVE to confirm").fill("REMOVE")
    await dialog.get_by_role("button", name="Remove access").click()
    await page.wait_for_url("**/employees?user=u-1")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="c-3"))
    assert "Removed" in await row.inner_text()


async def _capacity(page: Page, web: Browsing) -> None:
    await page.goto("/partners/p-1/capacity")
    for website, company in (("https://www.lead-one.com", "Lead One"), ("lead-two.io", "Two")):
        await page.get_by_label("Website").fill(website)
        await page.get_by_label("Company").fill(company)
        await page.get_by_label("Contact name").fill("Lee Contact")
        await page.get_by_label("Country", exact=True).fill("US")
        await page.get_by_role("button", name="Register", exact=True).click()
        await page.wait_for_url("**/capacity")
    assert "2 of" in await page.inner_text("main")
    await web.check(page, "capacity")
    await page.get_by_label("Select every row on this page").check()
    await page.get_by_role("button", name="Deregister selected").click()
    dialog = page.get_by_role("dialog")
    assert await dialog.get_by_role("listitem").all_inner_texts() == ["lead-one.com", "lead-two.io"]
    await dialog.get_by_role("button", name="Deregister", exact=True).click()
    await page.wait_for_url("**/capacity")
    assert "No registrations." in await page.inner_text("main")


async def _end_services_from_the_keyboard(page: Page) -> None:
    await page.goto(f"/partners/p-1/clients/c-1?as_of={AS_OF}")
    opener = page.get_by_role("button", name="End services")
    await opener.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    assert await dialog.is_visible()
    focused = await page.evaluate("document.activeElement.closest('dialog') !== null")
    assert focused, "focus moves into the dialog"
    await page.keyboard.press("Escape")
    assert not await dialog.is_visible()
    assert await opener.evaluate("button => button === document.activeElement")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")  # Cancel -> End services
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/clients/c-1?ended=1")
    # M5: the ledger stops managed credit today; the portal shows it from the next read on.


async def _rolled(running: System, make_token: MakeToken) -> None:
    admin = {"Authorization": f"Bearer {make_token(Scope.ADMIN)}"}
    answer = await running.tier.post("/v1/rollups", json={"month": ROLLED_MONTH}, headers=admin)
    assert answer.status_code in (200, 201), answer.text


async def test_a_partner_reads_its_figures_and_acts_in_a_real_browser(
    every_settings: Settings5, make_token: MakeToken
) -> None:
    async with system(every_settings, make_token) as running:
        await world_settled(running)
        await _rolled(running, make_token)
        app = running.portal._transport.app  # type: ignore[attr-defined]
        token = make_token(Scope.PARTNER_READ, Scope.PARTNER_WRITE, partner_id="p-1")
        async with served(app) as base, browsing(base) as web:
            page = await web.sign_in(token)
            await _figures(page, web)
            await _remove_access(page, web)
            await _capacity(page, web)
            await _end_services_from_the_keyboard(page)

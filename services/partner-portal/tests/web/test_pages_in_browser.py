"""The partner's flows in a real browser (Chromium via Playwright) against the whole system
running on real PostgreSQL and Kafka, seeded through activity-ingest (portal_support.WORLD).
One seeded stack serves every flow of the test: starting it is the slow part."""

from portal_browser import browsing, served
from portal_support import AS_OF, Settings5, system, world_settled

from keel.auth import Scope
from keel.testing.plugin import MakeToken


async def test_a_partner_signs_in_and_uses_the_dashboard_in_a_real_browser(
    every_settings: Settings5, make_token: MakeToken
) -> None:
    async with system(every_settings, make_token) as running:
        await world_settled(running)
        app = running.portal._transport.app  # type: ignore[attr-defined]  # the app, served again over TCP
        token = make_token(Scope.PARTNER_READ, Scope.PARTNER_WRITE, partner_id="p-1")
        async with served(app) as base, browsing(base) as web:
            page = await web.context.new_page()

            # Sign in: paste the token; the cookie is HttpOnly and SameSite=Strict.
            await page.goto("/sign-in")
            await web.check(page, "sign-in")
            await page.get_by_label("Your access token").fill(token)
            await page.get_by_role("button", name="Sign in").click()
            await page.wait_for_url(f"{base}/partners/p-1/")
            cookie = next(c for c in await web.context.cookies() if c["name"] == "portal_session")
            assert cookie["httpOnly"]
            assert cookie["sameSite"] == "Strict"
            assert await page.evaluate("document.cookie.includes('portal_session')") is False

            # Dashboard as of the world's day: alerts, clients table, filter, sort, CSV.
            await page.goto(f"/partners/p-1/?as_of={AS_OF}")
            await web.check(page, "dashboard")
            alerts = page.locator("section[aria-labelledby=alerts-title]")
            assert "1" in await alerts.get_by_role("link").first.inner_text()
            table = page.get_by_role("table")
            assert await table.locator("tbody tr").count() == 3
            await page.evaluate("window.stillThisDocument = true")
            await page.get_by_label("Search").fill("acme")
            await page.get_by_role("button", name="Filter").click()
            await page.wait_for_url("**q=acme**")
            # htmx swapped the clients section only: the document (and its marker) stayed.
            assert await page.evaluate("window.stillThisDocument === true")
            assert await page.get_by_role("table").locator("tbody tr").count() == 1
            await page.goto(f"/partners/p-1/?as_of={AS_OF}&sort=mrr&order=desc")
            header = page.get_by_role("columnheader", name="MRR")
            assert await header.get_attribute("aria-sort") == "descending"
            first = page.get_by_role("table").locator("tbody tr").first
            assert "Acme Bakery" in await first.inner_text()
            async with page.expect_download() as download:
                await page.get_by_role("link", name="Download CSV").click()
            csv = (await (await download.value).path()).read_text()  # type: ignore[union-attr]
            assert csv.splitlines()[0].startswith("client_id,name")

            # The client panel's tabs and the why-credited checklist (D3).
            await page.goto(f"/partners/p-1/clients/c-1?as_of={AS_OF}")
            await web.check(page, "client-details")
            assert "Marketing contacts 10,000" in await page.inner_text("main")
            for tab in ("Renewals", "Portal usage", "Engagement", "Why am I credited?"):
                await page.get_by_role("link", name=tab, exact=True).click()
                await page.wait_for_load_state()
                assert await page.get_by_role("heading", name=tab, level=2).is_visible()
            await web.check(page, "client-why-credited")
            assert "ana@alpha.example" in await page.inner_text("main")

            # Another partner's URL: refused, never its data.
            answer = await page.goto("/partners/p-2/")
            assert answer is not None
            assert answer.status == 403
            assert "Delta Dairy" not in await page.inner_text("body")

            # Every language: the switcher keeps the choice in a cookie.
            await page.goto(f"/partners/p-1/?as_of={AS_OF}")
            for locale, word in (
                ("it", "Clienti"),
                ("da", "Kunder"),
                ("de", "Kunden"),
                ("sv", "Kunder"),
                ("en", "Clients"),
            ):
                await page.select_option("#language", locale)
                await page.locator("form.language button").click()
                await page.wait_for_load_state()
                assert await page.locator("html").get_attribute("lang") == locale
                assert await page.get_by_role("heading", name=word, level=2).is_visible()

            # Without JavaScript, signing in, reading and filtering still work (forms and links).
            plain = await web.open_context(java_script_enabled=False)
            page = await web.sign_in(token, plain)
            await page.goto(f"/partners/p-1/?as_of={AS_OF}")
            await page.get_by_label("Relationship").select_option("sold")
            await page.get_by_role("button", name="Filter").click()
            await page.wait_for_url("**relationship=sold**")
            rows = page.get_by_role("table").locator("tbody tr")
            assert await rows.count() == 1
            assert "Beta Books" in await rows.first.inner_text()

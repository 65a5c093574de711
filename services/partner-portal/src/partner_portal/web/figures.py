"""Pages of figures the owners hold (tier, breakdown, explanations, calculator): fetched with
the partner's own token, each section on its own so one owner's outage leaves the rest."""

import asyncio
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from babel import Locale
from fastapi import APIRouter, Form, Query, Request, Response

from partner_portal import service
from partner_portal.schemas import PointChangesQuery
from partner_portal.upstream import Section, Upstream, path, section
from partner_portal.web import charts
from partner_portal.web.rendering import PageRoute, locale_of, render
from partner_portal.web.session import check_post
from partner_portal.web.viewer import Viewer, ViewerDep

router = APIRouter(prefix="/partners/{partner_id}", route_class=PageRoute)

TRACKS = ("total", "sold", "sourced", "managed")


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


# T3: a month's rollup is evaluated on its 15th.
EVALUATION_DAY = 15


def month_in_force(day: date) -> str:
    """The rollup month whose tier is credited on `day` (T3): this month from its 15th,
    before that the previous month's."""
    if day.day >= EVALUATION_DAY:
        return _month(day)
    return _month(date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1))


def viewer_month(viewer: Viewer) -> str | None:
    """Today: the newest rollup; travelled: the one in force on the day."""
    return month_in_force(viewer.as_of) if viewer.travelled else None


def _model(policies: dict[str, Any], version: str) -> dict[str, Any] | None:
    return next((m for m in policies.get("tier_models", []) if m["version"] == version), None)


@router.get("/tier", include_in_schema=False)
async def tier(
    request: Request, viewer: ViewerDep, target: Annotated[str | None, Query(max_length=50)] = None
) -> Response:
    """Credited tier, tier performance, the chart per track with the next tier's line, insights,
    account performance and what a chosen tier needs ("get to")."""
    found, policies = await asyncio.gather(
        section(
            "tier", viewer.ask(Upstream.TIER, viewer.owned("tier"), month=viewer_month(viewer))
        ),
        section("policies", viewer.ask(Upstream.TIER, path("policies"))),
    )
    bars: list[charts.TrackBar] = []
    tiers: list[dict[str, Any]] = []
    if found.value is not None:
        insights = {t["track"]: t for t in found.value["insights"]["tracks"]}
        bars = charts.track_bars(
            [
                (
                    track,
                    Decimal(insights[track]["value"]),
                    Decimal(insights[track]["next_minimum"])
                    if insights[track]["next_minimum"] is not None
                    else None,
                    insights[track]["next_tier"],
                )
                for track in insights
            ]
        )
        model = _model(policies.value or {}, found.value["model"])
        tiers = model["tiers"] if model else []
    chosen = next((t for t in tiers if t["tier"] == target), None)
    return render(
        request,
        "tier.html",
        {
            "viewer": viewer,
            "tier": found.value,
            "sections": {"tier": found, "policies": policies},
            "bars": bars,
            "tiers": tiers,
            "chosen": chosen,
            "values": _track_values(found.value) if found.value else {},
        },
    )


def _track_values(answer: dict[str, Any]) -> dict[str, Decimal]:
    values = {name: Decimal(v) for name, v in answer["points"].items()}
    for name, value in answer.get("mrr_usd", {}).items():
        values[f"{name}_mrr_usd"] = Decimal(value)
    return {name if name.endswith("_usd") else f"{name}_points": v for name, v in values.items()}


@router.get("/breakdown", include_in_schema=False)
async def breakdown(
    request: Request,
    viewer: ViewerDep,
    deal_type: Annotated[str | None, Query(max_length=20)] = None,
    market_type: Annotated[str | None, Query(max_length=20)] = None,
    client: Annotated[str | None, Query(max_length=200)] = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    """The per-client table with deal-type and market-type filters, one client's history,
    progress over time (6 months and 3 projected) and the tier point changes of a range (D6)."""
    calls: list[Any] = [
        section(
            "breakdown",
            viewer.ask(
                Upstream.TIER,
                viewer.owned("points-breakdown"),
                month=viewer_month(viewer),
                deal_type=deal_type or None,
                market_type=market_type or None,
            ),
        ),
        section("progress", viewer.ask(Upstream.TIER, viewer.owned("progress"), months=6)),
    ]
    if client:
        calls.append(
            section(
                "history",
                viewer.ask(
                    Upstream.TIER,
                    viewer.owned("clients", client, "points-history"),
                    as_of=viewer.as_of.isoformat(),
                ),
            )
        )
    found: list[Section[Any]] = await asyncio.gather(*calls)
    changes = None
    if start and end:
        wanted = PointChangesQuery.model_validate({"from": start, "to": end})
        changes = await service.point_changes_between(viewer.portal, viewer.partner_id, wanted)
    progress = found[1].value["months"] if found[1].value else []
    points = charts.progress_points(
        [(m["month"], Decimal(m["total"] or 0), m["projected"]) for m in progress]
    )
    actual = [p for p in points if not p.projected]
    projected = actual[-1:] + [p for p in points if p.projected]
    return render(
        request,
        "breakdown.html",
        {
            "viewer": viewer,
            "breakdown": found[0].value,
            "sections": {s.name: s for s in found},
            "history": found[2].value if client else None,
            "client": client,
            "deal_type": deal_type or "",
            "market_type": market_type or "",
            "points": points,
            "line": {"actual": charts.polyline(actual), "projected": charts.polyline(projected)},
            "changes": changes,
            "start": start,
            "end": end,
        },
    )


@router.get("/explain", include_in_schema=False)
async def explain(request: Request, viewer: ViewerDep) -> Response:
    """A figure's derivation down to rule ids, policy versions and events (the tier engine's
    explain route)."""
    answer = await viewer.ask(
        Upstream.TIER,
        viewer.owned("tier", "explain"),
        month=viewer_month(viewer),
    )
    return render(request, "explain.html", {"viewer": viewer, "explained": answer})


def _calculator_lists(policies: dict[str, Any], locale: str) -> dict[str, Any]:
    """Currencies from the point-unit table in force (P1), countries named in the page's
    language, growth markets (P3) marked from the policy."""
    units = policies.get("currency_units", [])
    currencies = sorted(units[-1]["units"]) if units else []
    markets = policies.get("growth_markets", [])
    growth = set(markets[-1]["countries"]) if markets else set()
    names = Locale.parse(locale).territories
    countries = sorted(
        ((str(code), str(name)) for code, name in names.items() if str(code).isalpha()),
        key=lambda pair: pair[1],
    )
    return {"currencies": currencies, "countries": countries, "growth": growth}


async def _calculator_page(
    request: Request, viewer: Viewer, tab: str, result: Any, asked: dict[str, Any]
) -> Response:
    policies = await viewer.ask(Upstream.TIER, path("policies"))
    context = {"viewer": viewer, "tab": tab, "result": result, "asked": asked, "undated": True}
    return render(
        request, "calculator.html", context | _calculator_lists(policies, locale_of(request))
    )


@router.get("/calculator", include_in_schema=False)
async def calculator(
    request: Request, viewer: ViewerDep, tab: Literal["points", "currency"] = "points"
) -> Response:
    return await _calculator_page(request, viewer, tab, None, {})


@router.post("/calculator", include_in_schema=False)
async def calculate(
    request: Request,
    viewer: ViewerDep,
    tab: Annotated[Literal["points", "currency"], Form()],
    currency: Annotated[str, Form(max_length=3)],
    country: Annotated[str, Form(max_length=2)],
    deal_type: Annotated[str, Form(max_length=20)] = "sourced",
    amount: Annotated[str, Form(max_length=30)] = "",
    will_manage: Annotated[bool, Form()] = False,
    other_managing_partners: Annotated[int, Form(ge=0, le=1000)] = 0,
    direction: Annotated[str, Form(max_length=30)] = "points_to_currency",
    sold: Annotated[str, Form(max_length=30)] = "",
    managed: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """T6 at the tier engine: points of a deal, or points to currency and back."""
    await check_post(request)
    common = {"currency": currency, "country": country, "deal_type": deal_type}
    if tab == "points":
        body: dict[str, Any] = common | {
            "amount": amount,
            "will_manage": will_manage,
            "other_managing_partners": other_managing_partners,
        }
        mode = "points"
    else:
        keys = (
            ("sold_points", "managed_points")
            if direction == "points_to_currency"
            else ("sold_value", "managed_value")
        )
        body = common | {"direction": direction}
        body |= {k: v for k, v in zip(keys, (sold, managed), strict=True) if v}
        mode = "currency"
    result = await viewer.act(Upstream.TIER, path("calculator", mode), body)
    return await _calculator_page(request, viewer, tab, result, body)

"""Properties over generated histories: M7 shares sum to the MRR exactly on every day, and event
time decides: the same facts applied in any order give the same figures for every day."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from credit_ledger.domain.attribution import attribute, change_days
from credit_ledger.domain.facts import (
    Activity,
    Change,
    ClientHistory,
    PartnerUser,
    Subscription,
    Timeline,
    UserStatus,
)
from credit_ledger.domain.policy import ManagedPolicy
from credit_ledger.domain.split import split_equally
from credit_ledger.ledger import desired_steps, known_steps, reconcile, value_on
from credit_ledger.tables import LedgerEntry

POLICY = ManagedPolicy.load()
START = datetime(2023, 4, 1, tzinfo=UTC)  # spans the 90 -> 60 day window change
PARTNERS = ("p-1", "p-2", "p-3")
USERS = {"p-1": ("u-1", "u-2"), "p-2": ("u-3",), "p-3": ("u-4", "u-5")}
ACTIONS = ("blog.post_published", "email.sent", "login.succeeded", "landing_page.edited")

Fact = Callable[[ClientHistory], None]


@given(
    mrr=st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False),
    partners=st.integers(min_value=1, max_value=7),
)
def test_m7_equal_shares_always_add_up_to_the_mrr(mrr: Decimal, partners: int) -> None:
    shares = split_equally(mrr, [f"p-{n}" for n in range(partners)], Decimal("0.01"))
    assert sum(shares.values()) == mrr
    assert max(shares.values()) - min(shares.values()) <= Decimal("0.01")


moments = st.integers(min_value=0, max_value=200 * 24).map(lambda h: START + timedelta(hours=h))
early = st.integers(min_value=0, max_value=20 * 24).map(lambda h: START + timedelta(hours=h))


@st.composite
def facts(draw: st.DrawFn) -> list[tuple[str, datetime, Fact]]:
    """(event id, event time, fact): a partner world around one client, with random timing."""
    made: list[tuple[str, datetime, Fact]] = []

    def emit(make: Callable[..., Fact], *args: Any) -> None:
        event_id = f"e-{len(made):03d}"
        made.append((event_id, args[-1], make(*args, event_id)))  # the moment is the last arg

    often = st.sampled_from([True, True, True, False])
    for partner in PARTNERS:
        domain = f"{partner}.example"
        emit(_domain, partner, domain, draw(early))
        for user in USERS[partner]:
            employee = draw(often)
            email = f"{user}@{domain if draw(often) else 'elsewhere.example'}"
            emit(_status, partner, user, email, employee, UserStatus.ACTIVE, draw(early))
            for _ in range(draw(st.integers(0, 2))):
                status = draw(st.sampled_from(list(UserStatus)))
                emit(_status, partner, user, email, employee, status, draw(moments))
            emit(_member, user, True, draw(early))
            for _ in range(draw(st.integers(0, 1))):
                emit(_member, user, draw(st.booleans()), draw(moments))
            if draw(st.booleans()):
                emit(_link, partner, user, draw(often), draw(moments))
            if draw(st.integers(0, 5)) == 0:
                emit(_remove_access, partner, user, draw(moments))
            for _ in range(draw(st.integers(1, 5))):
                emit(_activity, partner, user, draw(st.sampled_from(ACTIONS)), draw(moments))
        if draw(st.integers(0, 6)) == 0:
            emit(_end_services, partner, draw(moments))
    for _ in range(draw(st.integers(1, 3))):
        mrr = draw(st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False))
        currency = draw(st.sampled_from(["USD", "JPY", "EUR"]))
        if currency == "JPY":
            mrr = mrr.quantize(Decimal(1))
        emit(_subscription, mrr, currency, draw(moments))
    return made


def _domain(partner: str, domain: str, when: datetime, eid: str) -> Fact:
    return lambda h: h.partner(partner).employee_domain.add(Change(when, eid, domain))


def _status(
    partner: str,
    user: str,
    email: str,
    employee: bool,
    status: UserStatus,
    when: datetime,
    eid: str,
) -> Fact:
    def apply(h: ClientHistory) -> None:
        known = h.partner(partner).users.setdefault(user, PartnerUser(user, email, employee))
        known.status.add(Change(when, eid, status))

    return apply


def _member(user: str, added: bool, when: datetime, eid: str) -> Fact:
    return lambda h: h.member(user).add(Change(when, eid, added))


def _link(partner: str, user: str, linked: bool, when: datetime, eid: str) -> Fact:
    return lambda h: (
        h.partner(partner).links.setdefault(user, Timeline()).add(Change(when, eid, linked))
    )


def _remove_access(partner: str, user: str, when: datetime, eid: str) -> Fact:
    return lambda h: (
        h.partner(partner).access_removed.setdefault(user, Timeline()).add(Change(when, eid, True))
    )


def _end_services(partner: str, when: datetime, eid: str) -> Fact:
    return lambda h: h.partner(partner).services_ended.add(Change(when, eid, True))


def _activity(partner: str, user: str, action: str, when: datetime, eid: str) -> Fact:
    tool = action.split(".")[0]
    return lambda h: h.partner(partner).add_activity(Activity(eid, user, tool, action, when))


def _subscription(mrr: Decimal, currency: str, when: datetime, eid: str) -> Fact:
    return lambda h: h.subscription.add(Change(when, eid, Subscription(mrr, currency)))


def history_of(applied: list[tuple[str, datetime, Fact]]) -> ClientHistory:
    history = ClientHistory("c-1")
    for _, _, fact in applied:
        fact(history)
    return history


def figures(history: ClientHistory) -> dict[date, object]:
    return {
        day: (a.credits(), a.mrr, a.currency, [v.reasons for v in a.not_managing])
        for day in change_days(history, POLICY)
        for a in [attribute(history, day, POLICY)]
    }


@settings(max_examples=60, deadline=None)
@given(facts=facts(), data=st.data())
def test_event_time_decides_any_arrival_order_gives_the_same_figures_every_day(
    facts: list[tuple[str, datetime, Fact]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(facts))
    assert figures(history_of(facts)) == figures(history_of(shuffled))


@settings(max_examples=60, deadline=None)
@given(facts=facts())
def test_m7_on_every_day_the_partners_shares_add_up_to_the_mrr(
    facts: list[tuple[str, datetime, Fact]],
) -> None:
    history = history_of(facts)
    for day in change_days(history, POLICY):
        attribution = attribute(history, day, POLICY)
        if attribution.shares and attribution.mrr is not None:
            assert sum(attribution.credits().values()) == attribution.mrr


@settings(max_examples=60, deadline=None)
@given(facts=facts(), data=st.data())
def test_ledger_entries_written_batch_by_batch_say_what_a_full_recompute_says(
    facts: list[tuple[str, datetime, Fact]], data: st.DataObject
) -> None:
    """Each batch recomputes only from its earliest event day; the record must still end up
    saying, for every day, what the facts say."""
    arrival = data.draw(st.permutations(facts))
    cut = data.draw(st.integers(max(1, len(arrival) - 4), len(arrival)))  # a few late events
    history = ClientHistory("c-1")
    entries: list[LedgerEntry] = []
    for number, batch in enumerate((arrival[:cut], arrival[cut:])):
        if not batch:
            continue
        for _, _, fact in batch:
            fact(history)
        since = min(when for _, when, _ in batch).date()
        for partner_id, step in reconcile(
            desired_steps(history, POLICY, since), known_steps(entries), since
        ):
            entries.append(
                LedgerEntry(
                    id=len(entries) + 1,
                    partner_id=partner_id,
                    client_id="c-1",
                    effective_on=step.day,
                    amount=step.credit.amount,
                    currency=step.credit.currency,
                    denominator=step.credit.denominator,
                    rule=step.rule,
                    cause=[],
                    recorded_at=START + timedelta(days=number),
                )
            )
    known = known_steps(entries)
    for day in change_days(history, POLICY):
        truth = attribute(history, day, POLICY).credits()
        said = {
            partner_id: credit.amount
            for partner_id, steps in known.items()
            if (credit := value_on(steps, day)) is not None and not credit.zero
        }
        assert said == {p: a for p, a in truth.items() if a != 0}, day

"""Properties over generated histories: M7 shares sum to the MRR exactly on every day; event
time decides: the same facts applied in any order give the same figures for every day; and the
ledger's fast path (interval state, domain/coverage.py) says what `attribute` says on every
client-day, whatever the window policy and however late the events arrive."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from credit_ledger.domain.attribution import attribute, change_days
from credit_ledger.domain.coverage import ClientState, derive, desired_steps, standing
from credit_ledger.domain.facts import (
    Activity,
    Change,
    ClientHistory,
    ClientSubscription,
    UserStatus,
)
from credit_ledger.domain.policy import ManagedPolicy, WindowVersion
from credit_ledger.domain.split import split_equally
from credit_ledger.domain.timeline import known_steps, reconcile, value_on
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
    return lambda h: (
        h.partner(partner).user(user, email, employee).status.add(Change(when, eid, status))
    )


def _member(user: str, added: bool, when: datetime, eid: str) -> Fact:
    return lambda h: h.member(user).add(Change(when, eid, added))


def _link(partner: str, user: str, linked: bool, when: datetime, eid: str) -> Fact:
    return lambda h: h.partner(partner).link(user).add(Change(when, eid, linked))


def _remove_access(partner: str, user: str, when: datetime, eid: str) -> Fact:
    return lambda h: h.partner(partner).access_removal(user).add(Change(when, eid, True))


def _end_services(partner: str, when: datetime, eid: str) -> Fact:
    return lambda h: h.partner(partner).services_ended.add(Change(when, eid, True))


class _ActivityFact:
    """An activity: the fast path adds it to the interval state instead of deriving again."""

    def __init__(self, partner: str, activity: Activity) -> None:
        self.partner, self.activity = partner, activity

    def __call__(self, history: ClientHistory) -> None:
        history.partner(self.partner).add_activity(self.activity)


def _activity(partner: str, user: str, action: str, when: datetime, eid: str) -> Fact:
    return _ActivityFact(partner, Activity(eid, user, action.split(".")[0], action, when))


def _subscription(mrr: Decimal, currency: str, when: datetime, eid: str) -> Fact:
    return lambda h: h.subscription.add(Change(when, eid, ClientSubscription(mrr, currency)))


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


@st.composite
def window_policies(draw: st.DrawFn) -> ManagedPolicy:
    """The packaged policy with 1 to 3 random window versions (longer and shorter ones, changing
    inside the generated histories)."""
    changes = draw(st.lists(st.integers(0, 260), min_size=0, max_size=2, unique=True))
    days = draw(st.lists(st.integers(5, 120), min_size=len(changes) + 1, max_size=len(changes) + 1))
    froms = [POLICY.window[0].effective_from] + [
        (START + timedelta(days=n)).date() for n in sorted(changes)
    ]
    windows = tuple(
        WindowVersion(version=f"w-{n}", effective_from=day, days=length)
        for n, (day, length) in enumerate(zip(froms, days, strict=True))
    )
    return POLICY.model_copy(update={"window": windows})


def every_day() -> list[date]:
    first = START.date() - timedelta(days=1)
    return [first + timedelta(days=n) for n in range(420)]


@settings(max_examples=80, deadline=None)
@given(facts=facts(), policy=window_policies())
def test_fast_path_says_what_attribute_says_on_every_client_day(
    facts: list[tuple[str, datetime, Fact]], policy: ManagedPolicy
) -> None:
    """Credits, and for a partner that does not manage the client the rule that keeps it out
    (the rule an ending ledger entry records), from interval state == from `attribute`."""
    history = history_of(facts)
    coverage = derive(history, policy).coverage
    for day in every_day():
        truth = attribute(history, day, policy)
        fast = standing(history, coverage, day, policy)
        if truth.currency is None:  # nothing to split: no credit, whoever manages
            assert fast.credits == {}, day
        else:
            assert {p: c.amount for p, c in fast.credits.items()} == truth.credits(), day
            assert {p: c.denominator for p, c in fast.credits.items()} == {
                s.partner_id: s.denominator for s in truth.shares
            }
        managing = {s.partner_id for s in truth.shares}
        assert not managing & fast.ended_by.keys()
        for partner_id, rule in fast.ended_by.items():
            verdict = next(v for v in truth.not_managing if v.partner_id == partner_id)
            assert verdict.ended_by == rule, (day, partner_id)


@settings(max_examples=80, deadline=None)
@given(facts=facts(), policy=window_policies(), data=st.data())
def test_ledger_entries_written_batch_by_batch_say_what_attribute_says_every_day(
    facts: list[tuple[str, datetime, Fact]], policy: ManagedPolicy, data: st.DataObject
) -> None:
    """Events arrive in any order, in batches, some late (dated before what was recorded). As
    the consumer does: a batch of activities only is added to the interval state, any other
    batch derives the state again; each batch reconciles from its earliest event day. The
    record must end up saying, for every day, what `attribute` says."""
    arrival = data.draw(st.permutations(facts))
    cuts = sorted(data.draw(st.lists(st.integers(1, len(arrival)), max_size=6)))
    batches = [arrival[a:b] for a, b in zip([0, *cuts], [*cuts, len(arrival)], strict=True)]
    history = ClientHistory("c-1")
    state = ClientState()
    entries: list[LedgerEntry] = []
    for number, batch in enumerate(b for b in batches if b):
        for _, _, fact in batch:
            fact(history)
        since = min(when for _, when, _ in batch).date()
        if all(isinstance(fact, _ActivityFact) for _, _, fact in batch):
            news = [state.add(fact.activity, policy) for _, _, fact in batch]  # type: ignore[attr-defined]
            if all(new is None for new in news):
                continue  # nothing newly covered: no figure can change, nothing is read
        else:
            state = derive(history, policy)
        desired = desired_steps(history, state.coverage, policy, since)
        for partner_id, step in reconcile(desired, known_steps(entries), since):
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
    for day in every_day():
        truth = attribute(history, day, policy).credits()
        said = {
            partner_id: credit.amount
            for partner_id, steps in known.items()
            if (credit := value_on(steps, day)) is not None and not credit.zero
        }
        assert said == {p: a for p, a in truth.items() if a != 0}, day

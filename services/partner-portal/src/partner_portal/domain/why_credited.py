"""D3: why the partner is, or is not, credited for a client on a day. The credit-ledger judges
each step from the facts (M1-M5); here the checklist names, for each of the partner's own users,
the first step that fails and what would fix it."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    name: str
    rule: str
    passed: bool
    evidence: str


@dataclass(frozen=True, slots=True)
class UserSteps:
    user_id: str
    email: str
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class UserChecklist:
    user_id: str
    email: str
    steps: tuple[Step, ...]
    first_failing: Step | None
    fix: str | None


@dataclass(frozen=True, slots=True)
class WhyCredited:
    credited: bool
    ends_on: date | None  # M6: the day credit ends without new activity
    users: tuple[UserChecklist, ...]


# What the partner can do about each step (the program's instructions, in its order).
FIXES = {
    1: "Use a user of your partner account who is not removed; a removed user earns nothing.",
    2: "Assign the user to the client (Assign clients), or work through a partner employee "
    "whose email is on your partner employee domain.",
    3: "Ask the client to add the user to its account: only the client can restore removed "
    "access. After ending services, assign a user to the client again.",
    4: "Do qualifying work in the client's account (create or edit assets, publish a post); "
    "a login or a page view never counts.",
}


def why_credited(credited: bool, ends_on: date | None, users: Sequence[UserSteps]) -> WhyCredited:
    """D3: for each user the first failing step, in step order, and its fix."""
    checklist = []
    for user in users:
        ordered = tuple(sorted(user.steps, key=lambda step: step.number))
        failing = next((step for step in ordered if not step.passed), None)
        checklist.append(
            UserChecklist(
                user.user_id,
                user.email,
                ordered,
                failing,
                FIXES.get(failing.number) if failing else None,
            )
        )
    return WhyCredited(credited, ends_on if credited else None, tuple(checklist))

"""Events this service applies; each handler runs in the batch transaction, once per event id."""

from keel.events import topics
from keel.events.catalogue import EVENTS
from keel.kafka.consumer import Subscription

SUBSCRIPTION = Subscription(
    name="tier-engine",
    topics=[topics.CREDIT.name, topics.DEAL.name, topics.CAPACITY.name, topics.ACCOUNT.name],
    handlers={},
    registry=EVENTS,
)

"""The SQL the rollup and the reads share: which deals earn sold credit on a day (S2, S3) and
which managed credit stands on a day (the ledger's step function, latest recorded entry wins)."""

from sqlalchemy import TextClause, text

# S3: with the flag in force at close, the partner held an active registration of the client's
# registrable domain at the close moment.
REGISTERED_AT_CLOSE = """
    (NOT d.registration_required OR EXISTS (
        SELECT 1 FROM registration r
        WHERE r.partner_id = d.partner_id AND r.domain = d.client_domain
          AND r.registered_at <= d.closed_at
          AND (r.ended_at IS NULL OR r.ended_at > d.closed_at)))
"""

# S2: closed after the window start and on or before the day. S4: the rollup and the reads
# evaluate it on the month's 15th, so a deal closed later counts from the next month's report.
IN_WINDOW = "d.closed_on > :window_start AND d.closed_on <= :day"


def standing_credit(day: str, extra: str = "") -> str:
    """Per partner and client, the ledger entry in force on `day` (a bind or column name)."""
    return f"""
        SELECT DISTINCT ON (e.partner_id, e.client_id)
            e.partner_id, e.client_id, e.amount, e.currency, e.client_country, e.denominator,
            e.effective_on, e.rule, e.cause, e.recorded_at, e.event_id
        FROM credit_entry e
        WHERE e.effective_on <= {day} {extra}
        ORDER BY e.partner_id, e.client_id, e.effective_on DESC, e.recorded_at DESC, e.id DESC
    """


SOLD_SUMS: TextClause = text(f"""
    SELECT d.partner_id, d.deal_type, d.unit,
           CASE WHEN d.closed_on <= :lost_by_1 THEN 1
                WHEN d.closed_on <= :lost_by_2 THEN 2
                WHEN d.closed_on <= :lost_by_3 THEN 3
                ELSE 0 END AS lost_by,
           sum(d.mrr_delta * d.rate) AS weighted, sum(d.mrr_delta) AS mrr
    FROM deal d
    WHERE {IN_WINDOW} AND {REGISTERED_AT_CLOSE}
    GROUP BY 1, 2, 3, 4
""")

# Managed credit on the evaluated day (k = 0) and on the next three evaluated days, those from
# the entries known by the end of the evaluated day: the known expiries (T4 projection).
MANAGED_SUMS: TextClause = text(f"""
    SELECT e.partner_id, days.k, e.currency, e.client_country, sum(e.amount) AS amount
    FROM (VALUES (0, CAST(:day AS date)), (1, CAST(:day_1 AS date)),
                 (2, CAST(:day_2 AS date)), (3, CAST(:day_3 AS date))) AS days(k, day)
    CROSS JOIN LATERAL ({
    standing_credit(
        "days.day", "AND (e.effective_on <= CAST(:day AS date) OR e.recorded_at < :known_by)"
    )
}) e
    WHERE e.amount > 0
    GROUP BY 1, 2, 3, 4
""")

STANDINGS: TextClause = text("""
    SELECT DISTINCT ON (f.partner_id, f.kind) f.partner_id, f.kind, f.partner_type, f.certified
    FROM partner_fact f
    WHERE f.at < :day_end
    ORDER BY f.partner_id, f.kind, f.at DESC, f.event_id DESC
""")

# T2 (mrr-2018): per partner, each portal counted for sold or managed credit on the day, with
# how many of the listed apps its latest usage report names.
PORTAL_APPS: TextClause = text(f"""
    WITH portals AS (
        SELECT d.partner_id, d.client_id FROM deal d
        WHERE {IN_WINDOW} AND {REGISTERED_AT_CLOSE}
        UNION
        SELECT s.partner_id, s.client_id FROM ({standing_credit("CAST(:day AS date)")}) s
        WHERE s.amount > 0
    ), latest AS (
        SELECT DISTINCT ON (a.client_id) a.client_id, a.apps
        FROM client_apps a WHERE a.at < :day_end
        ORDER BY a.client_id, a.at DESC, a.event_id DESC
    )
    SELECT p.partner_id, p.client_id,
           coalesce(cardinality(ARRAY(
               SELECT unnest(l.apps) INTERSECT SELECT unnest(CAST(:apps AS text[])))), 0) AS used
    FROM portals p LEFT JOIN latest l ON l.client_id = p.client_id
""")

# One partner's deals in the window, each with whether S3 lets it earn credit.
PARTNER_DEALS: TextClause = text(f"""
    SELECT d.*, {REGISTERED_AT_CLOSE} AS registered
    FROM deal d
    WHERE d.partner_id = :partner_id AND {IN_WINDOW}
    ORDER BY d.client_id, d.closed_at, d.deal_id
""")

PARTNER_CREDIT: TextClause = text(
    standing_credit("CAST(:day AS date)", "AND e.partner_id = :partner_id")
)

DEALS_REGISTERED: TextClause = text(f"""
    SELECT d.deal_id, {REGISTERED_AT_CLOSE} AS registered FROM deal d
    WHERE d.deal_id = ANY(CAST(:ids AS text[]))
""")

"""M7: a client's MRR split equally among the partners managing it, exactly."""

from collections.abc import Collection
from decimal import Decimal


def split_equally(mrr: Decimal, partner_ids: Collection[str], unit: Decimal) -> dict[str, Decimal]:
    """Equal shares that add up to `mrr` exactly.

    Shares are whole multiples of the finer of the currency's smallest unit and the precision the
    MRR is given in; the indivisible remainder goes one unit each to the partners first in id
    order, so the result never depends on the order partners were found in.
    """
    if not partner_ids:
        return {}
    exponent = mrr.as_tuple().exponent
    if isinstance(exponent, int):
        unit = min(unit, Decimal(1).scaleb(exponent))
    units = int(mrr / unit)
    base, remainder = divmod(units, len(partner_ids))
    return {
        partner_id: (base + (1 if index < remainder else 0)) * unit
        for index, partner_id in enumerate(sorted(partner_ids))
    }

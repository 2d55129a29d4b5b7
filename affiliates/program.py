"""The program's rules, read everywhere a click, a signup or a commission needs them.

`program_get()` is the one row (code "default", seeded by migration 0002), served from the per-process lookup
cache (config.lookup_cache) like entitlements: clicks read it on every request. Saving it (the admin, a shell)
forgets it in every process (affiliates.signals). `commission_terms(affiliate)` is what an affiliate earns: its own
rate and type where ops set them, the program's otherwise.
"""

from dataclasses import dataclass
from decimal import Decimal

from affiliates.models import Affiliate, AffiliateProgram
from affiliates.models.program import CommissionType
from config.lookup_cache import OUTAGE_LAG_OK_S, lookup_cached, lookup_key

PROGRAM_CODE = "default"


@dataclass(frozen=True)
class CommissionTerms:
    rate: Decimal  # percent of the paid amount before tax
    type: str  # CommissionType
    recurring_months: int | None  # for CommissionType.RECURRING_MONTHS
    scheme: list  # for CommissionType.SCHEME: [{"months": 3, "rate": "40"}, {"months": None, "rate": "20"}]


def program_key() -> str:
    return lookup_key("affiliate-program", PROGRAM_CODE)


def program_get() -> AffiliateProgram:
    """The program's settings. A few seconds' lag is harmless here, so it is served as loaded while Redis is
    unreachable (OUTAGE_LAG_OK_S)."""
    return lookup_cached(program_key(), _program_load, stale_ok_s=OUTAGE_LAG_OK_S)


def commission_terms(affiliate: Affiliate, *, program: AffiliateProgram | None = None) -> CommissionTerms:
    """The affiliate's rate and type: each overrides the program's when set. An overridden type brings its own
    months or scheme (the program's belong to the program's type)."""
    program = program or program_get()
    rate = affiliate.commission_rate if affiliate.commission_rate is not None else program.commission_rate
    if affiliate.commission_type:
        return CommissionTerms(rate=rate, type=affiliate.commission_type,
                               recurring_months=affiliate.recurring_months, scheme=list(affiliate.scheme or []))
    return CommissionTerms(rate=rate, type=program.commission_type or CommissionType.RECURRING,
                           recurring_months=program.recurring_months, scheme=list(program.scheme or []))


def _program_load() -> AffiliateProgram:
    # Seeded by the migration; recreated with the defaults if someone deleted it, so nothing downstream breaks.
    program, _ = AffiliateProgram.objects.get_or_create(code=PROGRAM_CODE)
    return program

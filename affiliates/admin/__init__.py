"""Ops' admin for the affiliate program, tenant referrals and agencies: one module per concept."""

from affiliates.admin import agencies_admin, commissions_admin, program_admin, referrals_admin  # noqa: F401

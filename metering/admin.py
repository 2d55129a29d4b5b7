"""Metering's ops admin: each sub-package registers its own models in its `admin` module; Django's admin
autodiscovery imports only `metering.admin`, so this module imports them."""

from metering.gateway import admin as gateway_admin  # noqa: F401
from metering.usage import admin as usage_admin  # noqa: F401
from metering.wallets import admin as wallets_admin  # noqa: F401

"""White-label's ops admin (public host only). Each part registers its own models in its own module; Django's
admin autodiscovery imports only `whitelabel.admin`, so this module imports them:

- whitelabel.domains.admin: custom domains with their records and last check (check now, release);
- whitelabel.email.admin: brands' sender domains with their records and last check (check now)."""

from whitelabel.domains import admin as domains_admin  # noqa: F401
from whitelabel.email import admin as email_admin  # noqa: F401

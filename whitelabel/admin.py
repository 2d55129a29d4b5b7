"""White-label's ops admin (public host only). Each part registers its own models in its own module; Django's
admin autodiscovery imports only `whitelabel.admin`, so this module imports them:

- whitelabel.brands.admin: brands with their colours, logo, CSS and a preview of an email under them (read-only);
- whitelabel.domains.admin: custom domains with their records and last check (check now, release);
- whitelabel.email.admin: brands' sender domains with their records and last check (check now);
- whitelabel.resellers.admin: agencies' price lists, invoicing details and invoices to their clients (read-only)."""

from whitelabel.brands import admin as brands_admin  # noqa: F401
from whitelabel.domains import admin as domains_admin  # noqa: F401
from whitelabel.email import admin as email_admin  # noqa: F401
from whitelabel.resellers import admin as resellers_admin  # noqa: F401

"""Refusals of the brand services; config/api/errors.py maps them for the API, pages show their message."""

from config.errors import DomainError


class BrandError(DomainError):
    code = "brand_error"


class BrandCssInvalid(BrandError):
    """Custom CSS refused: too large, not parseable, or able to load from elsewhere or run script."""

    code = "brand_css_invalid"


class BrandContrastInsufficient(BrandError):
    """Neither white nor near-black text reaches WCAG AA (4.5:1) on one of the brand's colours."""

    code = "brand_contrast_insufficient"


class BrandImageInvalid(BrandError):
    """An uploaded logo or favicon that is too large, of another type, unreadable or a decompression bomb."""

    code = "brand_image_invalid"


class WhiteLabelNotInPlan(BrandError):
    """The tenant's plan has no `white_label` entitlement (the White-Label plan has it)."""

    code = "plan_upgrade_required"
    status = 402

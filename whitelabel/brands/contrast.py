"""WCAG 2 contrast for a brand's colours: text on the primary and accent colours must reach AA (4.5:1).

The brand does not choose its text colour: pages put white or near-black (#111111) text on each colour, whichever
reads better, so a colour is accepted when the better of the two reaches 4.5:1. Ratios are floats: they are
compared and shown, never summed into money.
"""

from __future__ import annotations

import math

from whitelabel.brands.exceptions import BrandContrastInsufficient

WCAG_AA_NORMAL_TEXT = 4.5
TEXT_LIGHT = "#ffffff"
TEXT_DARK = "#111111"


def relative_luminance(colour: str) -> float:
    """The WCAG 2 relative luminance of a #RRGGBB colour: 0 for black, 1 for white."""
    red, green, blue = (_linear(int(colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """From 1 (the same luminance) to 21 (black on white); the order of the colours does not matter."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(background: str) -> str:
    """The text colour pages use on `background`: white or near-black, whichever contrasts more."""
    light, dark = contrast_ratio(TEXT_LIGHT, background), contrast_ratio(TEXT_DARK, background)
    return TEXT_LIGHT if light >= dark else TEXT_DARK


def colour_contrast_check(primary: str, accent: str) -> None:
    """BrandContrastInsufficient when the text on either colour stays below WCAG AA, with the best ratio reached
    to two decimals (rounded down when rounding would show a refused 4.4996 as the 4.50 required)."""
    for field, colour in (("primary_colour", primary), ("accent_colour", accent)):
        text = text_colour_on(colour)
        ratio = contrast_ratio(text, colour)
        if ratio < WCAG_AA_NORMAL_TEXT:
            shown = _refused_ratio_shown(ratio)
            raise BrandContrastInsufficient(
                f"Text on {colour} reaches {shown}:1 at best (with {text} text); WCAG AA needs "
                f"{WCAG_AA_NORMAL_TEXT}:1. Choose a lighter or darker colour.",
                field=field, details={"colour": colour, "ratio": shown, "text_colour": text,
                                      "required": f"{WCAG_AA_NORMAL_TEXT}"})


def _refused_ratio_shown(ratio: float) -> str:
    rounded = round(ratio, 2)
    return f"{math.floor(ratio * 100) / 100 if rounded >= WCAG_AA_NORMAL_TEXT else rounded:.2f}"


def _linear(channel: float) -> float:
    # WCAG 2.x's sRGB threshold (0.03928; the sRGB standard's 0.04045 gives the same result for 8-bit values).
    return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

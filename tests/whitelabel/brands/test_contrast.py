"""WCAG contrast of a brand's colours: known ratios, and colours refused with the ratio they reach."""

import pytest

from whitelabel.brands.contrast import colour_contrast_check, contrast_ratio, text_colour_on
from whitelabel.brands.exceptions import BrandContrastInsufficient


@pytest.mark.parametrize(("foreground", "background", "expected"), [
    ("#000000", "#ffffff", 21.0),
    ("#ffffff", "#ffffff", 1.0),
    ("#777777", "#ffffff", 4.48),
    ("#767676", "#ffffff", 4.54),
    ("#ffffff", "#1f4b99", 8.32),
])
def test_contrast_ratio_matches_the_wcag_reference_values(foreground, background, expected):
    assert round(contrast_ratio(foreground, background), 2) == expected


def test_contrast_ratio_does_not_depend_on_the_order_of_the_colours():
    assert contrast_ratio("#767676", "#ffffff") == contrast_ratio("#ffffff", "#767676")


def test_text_on_a_dark_colour_is_white_and_on_a_light_one_near_black():
    assert text_colour_on("#1f4b99") == "#ffffff"
    assert text_colour_on("#ffcc00") == "#111111"


def test_colours_that_white_or_near_black_text_reads_on_are_accepted():
    colour_contrast_check("#767676", "#ffcc00")


def test_a_primary_colour_below_aa_is_refused_with_the_best_ratio_it_reaches():
    with pytest.raises(BrandContrastInsufficient) as refused:
        colour_contrast_check("#777777", "#1f4b99")

    assert refused.value.code == "brand_contrast_insufficient"
    assert refused.value.status == 400
    assert refused.value.field == "primary_colour"
    assert refused.value.details["ratio"] == "4.48"
    assert "4.48:1" in refused.value.message


def test_an_accent_colour_below_aa_is_refused():
    with pytest.raises(BrandContrastInsufficient) as refused:
        colour_contrast_check("#1f4b99", "#7a7a7a")

    assert refused.value.field == "accent_colour"


def test_a_ratio_just_below_aa_is_never_shown_rounded_up_to_it():
    with pytest.raises(BrandContrastInsufficient) as refused:
        colour_contrast_check("#039015", "#ffcc00")  # near-black on it: 4.4996

    assert refused.value.details["ratio"] == "4.49"

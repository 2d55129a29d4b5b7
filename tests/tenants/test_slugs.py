import pytest

from tenants.exceptions import SlugInvalid
from tenants.slugs import primary_domain_for, schema_name_for, slug_validate


@pytest.mark.parametrize("slug", ["abc", "acme", "acme-labs", "a1b2", "x" * 40, "a-b-c"])
def test_slug_validate_accepts_lowercase_letters_digits_and_single_hyphens(slug):
    assert slug_validate(slug) == slug


@pytest.mark.parametrize("slug", ["ab", "", "x" * 41])
def test_slug_validate_refuses_a_slug_too_short_or_too_long(slug):
    with pytest.raises(SlugInvalid, match="3 to 40"):
        slug_validate(slug)


@pytest.mark.parametrize(
    "slug", ["Upper", "under_score", "-lead", "trail-", "dou--ble", "1digit", "sp ace", "dot.ted", "ünïcode",
             "semi;colon", 'quo"te'],
)
def test_slug_validate_refuses_unsafe_characters(slug):
    with pytest.raises(SlugInvalid, match="lowercase"):
        slug_validate(slug)


@pytest.mark.parametrize("slug", ["public", "admin", "www", "api", "static", "mail", "tenant-template", "pg-toast",
                                  "information-schema"])
def test_slug_validate_refuses_reserved_names(slug):
    with pytest.raises(SlugInvalid, match="reserved"):
        slug_validate(slug)


def test_schema_name_maps_hyphens_to_underscores():
    assert schema_name_for("acme-labs-2") == "acme_labs_2"


def test_primary_domain_is_the_slug_under_the_base_domain():
    assert primary_domain_for("acme") == "acme.localhost"

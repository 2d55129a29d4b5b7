"""Brand images: allowed formats are re-encoded to metadata-free PNG; other formats, oversized files and
dimensions, broken files and decompression bombs are refused."""

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from PIL import Image, ImageCms, PngImagePlugin

from whitelabel.brands.exceptions import BrandImageInvalid
from whitelabel.brands.images import FAVICON, LOGO, image_clean, image_store


def encoded(fmt: str, size=(64, 32), mode="RGB", **save_options) -> io.BytesIO:
    out = io.BytesIO()
    Image.new(mode, size, "#1f4b99").save(out, format=fmt, **save_options)
    out.seek(0)
    return out


def png_claiming(width: int, height: int) -> io.BytesIO:
    """A tiny PNG whose header claims width x height pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return io.BytesIO(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                      + chunk(b"IEND", b""))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_logo_in_an_allowed_format_is_re_encoded_as_png(fmt):
    png = image_clean(encoded(fmt), kind=LOGO)

    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (64, 32))


def test_an_ico_favicon_is_accepted():
    png = image_clean(encoded("ICO", size=(32, 32)), kind=FAVICON)

    assert png.startswith(b"\x89PNG")


def test_an_ico_logo_is_refused():
    with pytest.raises(BrandImageInvalid) as refused:
        image_clean(encoded("ICO", size=(32, 32)), kind=LOGO)

    assert refused.value.code == "brand_image_invalid"
    assert refused.value.field == "logo"


def test_a_gif_is_refused_whatever_it_is_called():
    with pytest.raises(BrandImageInvalid, match="GIF"):
        image_clean(encoded("GIF"), kind=LOGO)


def test_an_svg_is_refused():
    svg = io.BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')

    with pytest.raises(BrandImageInvalid, match="not a readable image"):
        image_clean(svg, kind=LOGO)


def test_exif_with_a_gps_position_is_stripped_from_a_jpeg():
    exif = Image.Exif()
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPSInfo: latitude
    exif[0x010F] = "Camera maker"
    png = image_clean(encoded("JPEG", exif=exif.tobytes()), kind=LOGO)

    with Image.open(io.BytesIO(png)) as image:
        assert "exif" not in image.info
        assert not image.getexif()


def test_an_icc_profile_and_text_chunks_are_stripped():
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "someone@example.test")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    png = image_clean(encoded("PNG", pnginfo=text, icc_profile=profile), kind=LOGO)

    with Image.open(io.BytesIO(png)) as image:
        assert "icc_profile" not in image.info
        assert "Author" not in image.info


def test_transparency_is_kept():
    png = image_clean(encoded("PNG", mode="RGBA"), kind=LOGO)

    with Image.open(io.BytesIO(png)) as image:
        assert image.mode == "RGBA"


def test_a_file_over_the_byte_limit_is_refused(settings):
    settings.BRAND_IMAGE_MAX_BYTES = 100

    with pytest.raises(BrandImageInvalid, match="larger than 100 bytes"):
        image_clean(encoded("BMP"), kind=LOGO)


def test_a_logo_wider_than_allowed_is_refused(settings):
    settings.BRAND_LOGO_MAX_SIDE_PX = 50

    with pytest.raises(BrandImageInvalid, match="64x32 pixels"):
        image_clean(encoded("PNG"), kind=LOGO)


def test_a_favicon_has_its_own_smaller_limit(settings):
    settings.BRAND_FAVICON_MAX_SIDE_PX = 16

    with pytest.raises(BrandImageInvalid, match="at most 16x16"):
        image_clean(encoded("PNG", size=(32, 32)), kind=FAVICON)


def test_a_decompression_bomb_is_refused_before_its_pixels_are_decoded():
    with pytest.raises(BrandImageInvalid, match="more pixels than allowed"):
        image_clean(png_claiming(60_000, 60_000), kind=LOGO)


def test_a_small_file_claiming_large_dimensions_is_refused_by_its_header():
    with pytest.raises(BrandImageInvalid, match="4000x4000"):
        image_clean(png_claiming(4000, 4000), kind=LOGO)


def test_a_truncated_image_is_refused():
    data = encoded("PNG", size=(200, 200)).getvalue()

    with pytest.raises(BrandImageInvalid, match="not a readable image"):
        image_clean(io.BytesIO(data[: len(data) // 2]), kind=LOGO)


def test_a_stored_image_goes_through_the_default_storage_under_a_fresh_name(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    png = image_clean(encoded("PNG"), kind=LOGO)

    first, second = image_store(png, kind=LOGO, owner="acme"), image_store(png, kind=LOGO, owner="acme")

    assert first != second
    assert first.startswith("brands/logos/acme-") and first.endswith(".png")
    assert default_storage.open(first).read() == png
    assert (tmp_path / first).exists()

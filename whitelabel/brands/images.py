"""A brand's logo and favicon: checked, re-encoded to PNG and stored through Django's default storage.

An upload is never stored as sent. It must be one of the allowed formats (told by its content, not its name or
declared type: no SVG, which can carry script), at most BRAND_IMAGE_MAX_BYTES, and at most the kind's maximum side
in pixels, read from the header before any pixel is decoded, so a small file that expands into gigabytes (a
decompression bomb) is refused before it costs memory. What is stored is a fresh PNG of the first frame, turned
upright by its EXIF orientation, with no metadata (EXIF with its GPS position, ICC profiles, text chunks): the
pixels only. Stored names carry a random part, so a new upload is a new URL and caches never show the old one.
"""

from __future__ import annotations

import io
import secrets
import warnings
from typing import BinaryIO, NoReturn

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from whitelabel.brands.exceptions import BrandImageInvalid

LOGO = "logo"
FAVICON = "favicon"
ALLOWED_FORMATS = {LOGO: frozenset({"PNG", "JPEG", "WEBP"}), FAVICON: frozenset({"PNG", "JPEG", "WEBP", "ICO"})}
UPLOAD_DIRECTORIES = {LOGO: "brands/logos", FAVICON: "brands/favicons"}


def image_clean(upload: BinaryIO, *, kind: str) -> bytes:
    """The upload as a metadata-free PNG, or BrandImageInvalid saying why not (field `kind`)."""
    data = upload.read(settings.BRAND_IMAGE_MAX_BYTES + 1)
    if len(data) > settings.BRAND_IMAGE_MAX_BYTES:
        _refuse(kind, f"The {kind} is larger than {settings.BRAND_IMAGE_MAX_BYTES} bytes.")
    max_side = _max_side(kind)
    with warnings.catch_warnings():
        # Pillow only warns below twice its own pixel limit: a warning is a refusal here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                _check_header(probe, kind=kind, max_side=max_side)
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return _png_of(image)
        except BrandImageInvalid:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            _refuse(kind, f"The {kind} would decode to more pixels than allowed.")
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            # SyntaxError and ValueError are what Pillow's decoders raise on broken files.
            _refuse(kind, f"The {kind} is not a readable image.")


def image_store(png: bytes, *, kind: str, owner: str) -> str:
    """Save a cleaned PNG through the default storage; its name (what an ImageField holds)."""
    name = f"{UPLOAD_DIRECTORIES[kind]}/{owner}-{secrets.token_hex(8)}.png"
    return default_storage.save(name, ContentFile(png))


def image_delete(name: str) -> None:
    """Remove a stored image (a replaced or removed logo); nothing when it is already gone."""
    if name:
        default_storage.delete(name)


def _check_header(image: Image.Image, *, kind: str, max_side: int) -> None:
    if image.format not in ALLOWED_FORMATS[kind]:
        allowed = ", ".join(sorted(ALLOWED_FORMATS[kind]))
        _refuse(kind, f"The {kind} must be one of {allowed} (this is {image.format or 'unknown'}).")
    width, height = image.size
    if width < 1 or height < 1 or width > max_side or height > max_side:
        _refuse(kind, f"The {kind} is {width}x{height} pixels; at most {max_side}x{max_side} are allowed.")


def _png_of(image: Image.Image) -> bytes:
    upright = ImageOps.exif_transpose(image)
    mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") or "transparency" in upright.info else "RGB"
    converted = upright.convert(mode)
    # A new image from the pixels alone: nothing of the original's info (EXIF, ICC, text) can follow it.
    pixels = Image.frombytes(mode, converted.size, converted.tobytes())
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _max_side(kind: str) -> int:
    return settings.BRAND_FAVICON_MAX_SIDE_PX if kind == FAVICON else settings.BRAND_LOGO_MAX_SIDE_PX


def _refuse(kind: str, message: str) -> NoReturn:
    raise BrandImageInvalid(message, field=kind)

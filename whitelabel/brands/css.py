"""A brand's custom CSS: accepted as written or refused with the reason, never rewritten.

CSS cannot run script in today's browsers, but it can load from elsewhere (tracking, exfiltration of attribute
values through selectors plus background URLs), pull in another stylesheet, close the <style> element it sits in,
or run script in old engines (`expression()`, `behavior`, `-moz-binding`). So the policy is:

- at most BRAND_CSS_MAX_BYTES of UTF-8;
- no `@import`;
- `url()` (and `src()`, and the strings of `image-set()`, `image()`, `cross-fade()`) only to a relative path on the
  same origin: no scheme (so no `data:` either), no `//host`, no backslash (browsers read `/\\host` as `//host`);
  brands upload their images instead, and those are served from our own storage;
- no `expression(`, `behavior`, `-moz-binding`, `javascript:` or `vbscript:`;
- no `<` that could open a tag (`</style`, `<script`, `<!--`): a `<` must be followed by a space or `=`, which is
  what media range queries use (`@media (width < 600px)`);
- it must parse as CSS (tinycss2, which follows CSS Syntax Level 3 like browsers do).

Escapes and comments cannot hide any of this: the token walk sees names and URLs with their escapes decoded, as a
browser does (`@\\69mport` is `@import`, `u\\rl(` is `url(`), and a second check looks for the forbidden words in
the text with escapes decoded, both with and without its comments (`ex/**/pression(`). That second check errs on the
cautious side: the words are refused even inside a string or a comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NoReturn

import tinycss2
from django.conf import settings

from whitelabel.brands.exceptions import BrandCssInvalid

FORBIDDEN_PROPERTIES = frozenset({"behavior", "-ms-behavior", "-moz-binding"})
SCRIPT_FUNCTIONS = frozenset({"expression", "-ms-expression"})
# Functions whose argument is a URL even when it is written as a string.
URL_FUNCTIONS = frozenset({"url", "src"})
# Functions whose string arguments are URLs.
URL_STRING_FUNCTIONS = frozenset({"image-set", "-webkit-image-set", "image", "cross-fade", "-webkit-cross-fade"})

_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:", re.IGNORECASE)
_SCRIPT_SCHEME = re.compile(r"(?:java|vb)script\s*:", re.IGNORECASE)
_TAG_OPENING = re.compile(r"<(?![\s=])")
_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(\n|\r\n|\r|\f)|(.))", re.DOTALL)
_FORBIDDEN_WORDS = [
    (re.compile(r"@import", re.IGNORECASE), "@import is not allowed"),
    (re.compile(r"expression\s*\(", re.IGNORECASE), "expression() is not allowed"),
    (_SCRIPT_SCHEME, "javascript: and vbscript: are not allowed"),
    (re.compile(r"-moz-binding", re.IGNORECASE), "-moz-binding is not allowed"),
    (re.compile(r"(?<![\w.#])(?:-ms-)?behavior\s*:", re.IGNORECASE), "the behavior property is not allowed"),
]


def css_sanitise(text: str) -> str:
    """`text` unchanged when it keeps to the policy above, else BrandCssInvalid with the first reason found
    (in `details["reason"]`)."""
    if not text:
        return text
    size = len(text.encode("utf-8"))
    if size > settings.BRAND_CSS_MAX_BYTES:
        _refuse(f"the CSS is {size} bytes, more than the {settings.BRAND_CSS_MAX_BYTES} allowed")
    if "\x00" in text:
        _refuse("the CSS contains a NUL character")
    if _TAG_OPENING.search(text):
        _refuse("a < followed by anything but a space or = could close the style element")
    _walk(tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True))
    for variant in (_decode_escapes(text), _decode_escapes(_COMMENT.sub("", text))):
        for pattern, reason in _FORBIDDEN_WORDS:
            if pattern.search(variant):
                _refuse(reason)
    return text


def _refuse(reason: str) -> NoReturn:
    raise BrandCssInvalid(f"Custom CSS refused: {reason}.", field="custom_css", details={"reason": reason})


def _walk(nodes: Iterable[object] | None) -> None:
    for node in nodes or ():
        kind = getattr(node, "type", None)
        if kind == "error":
            _refuse(f"it is not valid CSS at line {node.source_line} ({node.message})")
        elif kind == "at-rule":
            if node.lower_at_keyword == "import":
                _refuse("@import is not allowed")
            _walk(node.prelude)
            _walk(node.content)
        elif kind == "qualified-rule":
            _walk(node.prelude)
            _walk(node.content)
        elif kind == "url":
            _check_url(node.value)
        elif kind == "function":
            _check_function(node)
            _walk(node.arguments)
        elif kind in ("() block", "[] block", "{} block"):
            _walk(node.content)
        elif kind in ("ident", "string"):
            if _SCRIPT_SCHEME.search(node.value):
                _refuse("javascript: and vbscript: are not allowed")
            if kind == "ident" and node.lower_value in FORBIDDEN_PROPERTIES:
                _refuse(f"the {node.lower_value} property is not allowed")


def _check_function(node) -> None:
    if node.lower_name in SCRIPT_FUNCTIONS:
        _refuse(f"{node.lower_name}() is not allowed")
    if node.lower_name in URL_FUNCTIONS | URL_STRING_FUNCTIONS:
        for argument in node.arguments:
            if argument.type == "string":
                _check_url(argument.value)


def _check_url(url: str) -> None:
    # Browsers drop tabs and newlines from URLs and trim spaces and control characters around them.
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("".join(chr(c) for c in range(0x21)))
    if not cleaned:
        _refuse("url() is empty")
    if "\\" in cleaned or cleaned.startswith("//"):
        _refuse(f"url({url}) points to another host; only relative paths on this site are allowed")
    if _SCHEME.match(cleaned):
        _refuse(f"url({url}) has a scheme; only relative paths on this site are allowed")


def _decode_escapes(text: str) -> str:
    """The text with CSS escapes replaced by what they stand for (CSS Syntax Level 3, 4.3.7)."""

    def replace(match: re.Match[str]) -> str:
        hex_digits, newline, char = match.groups()
        if newline is not None:
            return ""
        if char is not None:
            return char
        code = int(hex_digits, 16)
        return "\ufffd" if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else chr(code)

    return _ESCAPE.sub(replace, text)

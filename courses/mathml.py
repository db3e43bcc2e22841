"""LaTeX → MathML for formula blocks, with a whitelist sanitiser.

``latex2mathml`` passes ``\\text{...}`` contents and ``\\href`` targets through
unescaped, so its output is re-serialised here: only MathML elements and
presentational attributes survive, and every text node is escaped.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    """math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot
    mstyle merror mpadded mphantom mfenced menclose munder mover munderover mtable
    mtr mtd mlabeledtr mmultiscripts mprescripts none semantics annotation""".split()
)
ALLOWED_ATTRIBUTES = frozenset(
    """xmlns display mathvariant stretchy fence separator lspace rspace
    linethickness columnalign columnspacing rowspacing rowspan columnspan accent
    accentunder movablelimits form largeop symmetric minsize maxsize width height
    depth scriptlevel displaystyle notation encoding open close separators
    mathsize""".split()
)
VOID_TAGS = frozenset({"mspace", "none", "mprescripts"})


class _Sanitiser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            return
        kept = "".join(
            f' {name}="{escape(value or "", quote=True)}"'
            for name, value in attrs
            if name in ALLOWED_ATTRIBUTES
        )
        if tag in VOID_TAGS:
            self.out.append(f"<{tag}{kept}/>")
            return
        self.out.append(f"<{tag}{kept}>")
        self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if tag in ALLOWED_TAGS:
            kept = "".join(
                f' {name}="{escape(value or "", quote=True)}"'
                for name, value in attrs
                if name in ALLOWED_ATTRIBUTES
            )
            self.out.append(f"<{tag}{kept}/>")

    def handle_endtag(self, tag):
        if tag in ALLOWED_TAGS and tag in self.open:
            while self.open:
                current = self.open.pop()
                self.out.append(f"</{current}>")
                if current == tag:
                    break

    def handle_data(self, data):
        self.out.append(escape(data, quote=False))

    def result(self) -> str:
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def sanitise_mathml(markup: str) -> str:
    parser = _Sanitiser()
    parser.feed(markup)
    parser.close()
    return parser.result()


def render_latex(latex: str, display: str = "block") -> SafeString:
    from latex2mathml.converter import convert

    clean = sanitise_mathml(convert(latex, display=display))
    return mark_safe(clean)  # noqa: S308  # nosec B308 B703 - sanitised above

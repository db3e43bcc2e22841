from functools import lru_cache

from django import template
from django.utils import translation

register = template.Library()


@lru_cache(maxsize=512)
def _bilingual(message: str, separator: str) -> str:
    with translation.override("zh-hans"):
        chinese = translation.gettext(message)
    with translation.override("en"):
        english = translation.gettext(message)
    if chinese == english:
        return english
    return f"{chinese}{separator}{english}"


@register.simple_tag
def bilingual(message: str, separator: str = " · ") -> str:
    """The Chinese translation and the English text, e.g. "有效 · Valid".

    Catalogues do not change while a process runs, so results are cached.
    """
    return _bilingual(str(message), separator)

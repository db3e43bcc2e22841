"""Role-specific site navigation.

Each app contributes its own entries through the Wagtail hook
``register_site_nav_items``: a function taking the request and returning
``NavItem`` objects. The base template shows them in ``order``.
Public entries (course catalogue, visit schedule, certificate verification)
come from ``register_public_nav_items`` the same way and are shown to
everyone, including on the home page as quick links.
"""

from __future__ import annotations

from dataclasses import dataclass

from wagtail import hooks


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    order: int = 50


def nav_items_for_request(request) -> list[NavItem]:
    if not request.user.is_authenticated:
        return []
    items: list[NavItem] = []
    for hook in hooks.get_hooks("register_site_nav_items"):
        items.extend(hook(request))
    return sorted(items, key=lambda item: item.order)


def public_nav_items(request) -> list[NavItem]:
    items: list[NavItem] = []
    for hook in hooks.get_hooks("register_public_nav_items"):
        items.extend(hook(request))
    return sorted(items, key=lambda item: item.order)

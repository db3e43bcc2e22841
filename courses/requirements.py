"""Registry of external completion requirements.

Other apps (dispatch: attended a visit, passed a practical assessment) add
conditions to course completion without courses depending on them::

    @register_completion_requirement
    def visit_requirements(enrollment) -> list[RequirementStatus]: ...

A course completes only when its own pass rules and every status from every
registered provider are met. When what a provider reads changes, call
``courses.services.enrollment_recheck_completion(user=..., course=...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RequirementStatus:
    label: str
    met: bool


Provider = Callable[[object], list[RequirementStatus]]
_providers: list[Provider] = []


def register_completion_requirement(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister_completion_requirement(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def external_requirements(enrollment) -> list[RequirementStatus]:
    statuses: list[RequirementStatus] = []
    for provider in list(_providers):
        statuses.extend(provider(enrollment))
    return statuses

"""The resource families, one module each; importing this package registers them all (core.FAMILIES).

A module declares its family (core.Family: kind, stock records, lifecycle, list filters, references,
patch rules, operations) and holds the handlers of what its family does beyond the generic behaviours.
Adding a family is a new module here, its name below, and its part of the spec.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..core import FAMILIES, Family
from . import (
    conversations,
    deployments,
    dictionaries,
    documents,
    guardrails,
    lipsync,
    objectives,
    personas,
    replicas,
    skills,
    tools,
    transcriptions,
    videos,
    voices,
)


def registry() -> Mapping[str, Family]:
    """Every family, by tag (each module registered its own when this package was imported)."""
    return FAMILIES


__all__ = [
    "conversations",
    "deployments",
    "dictionaries",
    "documents",
    "guardrails",
    "lipsync",
    "objectives",
    "personas",
    "registry",
    "replicas",
    "skills",
    "tools",
    "transcriptions",
    "videos",
    "voices",
]

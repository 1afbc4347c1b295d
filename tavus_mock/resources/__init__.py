"""Behaviour modules, one per resource family.

A module holds what its family does beyond the generic behaviours of app.py (get, list, patch, rename,
delete, and create's common steps): its create (`@creates`), the operations only it has (`@handles`,
tavus_mock/core.py), and for the PAL-era families (live-surface inventory 2.2-2.7) its kind (ids, how
records are shown) and stock records. Importing this package registers them all.
"""

from __future__ import annotations

from . import (
    conversations,
    deployments,
    dictionaries,
    documents,
    guardrails,
    objectives,
    personas,
    replicas,
    skills,
    tools,
    transcriptions,
    videos,
)

__all__ = [
    "conversations",
    "deployments",
    "dictionaries",
    "documents",
    "guardrails",
    "objectives",
    "personas",
    "replicas",
    "skills",
    "tools",
    "transcriptions",
    "videos",
]

"""Behaviour modules, one per resource family of the PAL era (live-surface inventory 2.2-2.7).

Each module declares its kind (ids, how records are shown), its stock records, and the functions that
serve its operations (`@handles`, tavus_mock/core.py). Importing this package registers them all.
"""

from __future__ import annotations

from . import deployments, guardrails, skills, tools

__all__ = ["deployments", "guardrails", "skills", "tools"]

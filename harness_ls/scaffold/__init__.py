"""`agentctl init`: what a repository gets (AGENTS.md from the project's own facts, specs/README.md,
a starter diagram and its renderer, a policy), planned first and written only where nothing is."""

from __future__ import annotations

from harness_ls.scaffold.agents_md import template_text
from harness_ls.scaffold.detect import ProjectFacts, detect_project
from harness_ls.scaffold.init import InitReport, init

__all__ = ["InitReport", "ProjectFacts", "detect_project", "init", "template_text"]

"""Scenarios: what to do for which request (the book), and how the engine applies it."""

from sora_mock.engine.scenarios.book import Match, Scenario, ScenarioBook

__all__ = ["Match", "Scenario", "ScenarioBook"]

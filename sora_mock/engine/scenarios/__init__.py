"""Scenarios: what to do for which request (the book), and how the engine applies it."""

from sora_mock.engine.scenarios.book import Match, ResultOverrides, Scenario, ScenarioBook

__all__ = ["Match", "ResultOverrides", "Scenario", "ScenarioBook"]

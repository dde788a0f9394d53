"""Composition, settings, CLI and (with Kafka) the event relay and projector."""

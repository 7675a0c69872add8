"""Migrations of the engine's tables, oldest first. Each is frozen once released: add a new one instead."""

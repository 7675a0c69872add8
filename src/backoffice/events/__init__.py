"""The event schema, the readers of event logs, and activity normalization."""

"""Every write to a record goes through these functions (see docs/architecture.md)."""

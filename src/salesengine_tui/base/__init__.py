"""The base under everything (db/ included): errors, the clock, settings, validation."""

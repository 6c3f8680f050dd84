"""Front-end helpers shared by the TUI and the CLI printers (Rich, never Textual)."""

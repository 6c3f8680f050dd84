"""SalesEngine TUI."""

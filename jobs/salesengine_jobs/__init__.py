"""Headless jobs runner."""

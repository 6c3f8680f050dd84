"""Segments of customers and the email blasts sent to them."""

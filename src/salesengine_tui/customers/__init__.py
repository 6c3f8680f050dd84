"""Customers and leads: status, the inbox, the profile, import/export, tickets."""

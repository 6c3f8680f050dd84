"""The jobs' work: nurture, upsell sync, recorded job runs and their status."""

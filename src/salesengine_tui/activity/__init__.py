"""What happened and who is told: the timeline and team feed, notifications."""

"""Who people are and what they may do: users, roles and permissions, SSH keys."""

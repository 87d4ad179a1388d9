"""Human review of stored infractions: the state machine, claims, decisions and their history."""

"""Human review of stored infractions: the state machine, the queue, claims and the history of moves. The decisions
that reach the ledger (first and second review, reopening) are central.decisions, above this package and the ledger."""

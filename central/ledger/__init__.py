"""The points ledger: append-only, hash-chained entries written only from confirmed human reviews."""

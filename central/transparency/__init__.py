"""The transparency report: per site and period, what the cameras sent, what reviewers decided and what the
ledger did, per camera and rule, with small counts hidden. No subject reference, image or free text."""

"""A subject's own record: everything the ledger holds against one subject reference at one site, as one
printable page the person can be given."""

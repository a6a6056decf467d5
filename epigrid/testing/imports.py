"""Import ledgers of a round: exemptions and pre-formed groups (jobs.imports.register_ledger)."""

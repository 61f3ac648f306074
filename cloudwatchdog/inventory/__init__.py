"""Pure assembly of typed provider inventories into Resources and coverage entries."""

"""Background sync: scheduling, backoff, the sync engine, the account service, and thin Qt adapters."""

"""Real peers the tests talk to: OS keyring, platform servers; each started and stopped by a fixture."""

"""`make bench`: measurements on PostgreSQL at province or national size (see docs/performance.md)."""

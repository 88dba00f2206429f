"""Integration tests use the fixtures of tests/services.py (real PostgreSQL and Redis)."""

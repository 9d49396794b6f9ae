//! Integration tests: ps.

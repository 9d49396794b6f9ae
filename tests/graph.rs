//! Integration tests: graph.

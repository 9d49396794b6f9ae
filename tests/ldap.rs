//! Integration tests: ldap.

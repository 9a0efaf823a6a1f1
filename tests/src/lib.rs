//! Support for the end-to-end tests of the real binaries.

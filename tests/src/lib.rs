//! Helpers for end-to-end tests that run the real binaries over real HTTP.

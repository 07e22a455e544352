//! tipx integration test helpers.

//! `cargo fuzz run sync_messages`: see [`tipx_tests::fuzz::sync_messages`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tipx_tests::fuzz::sync_messages(data));

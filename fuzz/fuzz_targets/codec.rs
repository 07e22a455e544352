//! `cargo fuzz run codec`: see [`tipx_tests::fuzz::codec`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tipx_tests::fuzz::codec(data));

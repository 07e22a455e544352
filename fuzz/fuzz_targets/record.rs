//! `cargo fuzz run record`: see [`tipx_tests::fuzz::record`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tipx_tests::fuzz::record(data));

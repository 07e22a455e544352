//! `cargo fuzz run import`: see [`tipx_tests::fuzz::import`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tipx_tests::fuzz::import(data));

//! `cargo fuzz run config`: see [`tipx_tests::fuzz::config`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tipx_tests::fuzz::config(data));

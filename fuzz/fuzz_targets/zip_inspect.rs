//! `inspect_zip` over arbitrary bytes: never panics, and never reports more than the limit it was given.
#![no_main]

use lamina_model::package::inspect_zip;
use libfuzzer_sys::fuzz_target;

const LIMIT: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    if let Ok(summary) = inspect_zip(data, LIMIT) {
        assert!(summary.unzipped_size <= LIMIT);
        assert!(summary.entries >= 1 || summary.unzipped_size == 0);
    }
});

//! `parse_function_name` over arbitrary strings: never panics, and what it accepts is well-formed.
#![no_main]

use lamina_model::names::{parse_function_name, NameShape};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for (shape, max) in [(NameShape::Function, 140), (NameShape::Namespaced, 256)] {
        match parse_function_name(input, shape) {
            Ok(r) => {
                assert!(
                    input.chars().count() <= max,
                    "accepted {} chars",
                    input.len()
                );
                assert!(!r.name.is_empty(), "empty name from {input:?}");
                assert!(
                    input.contains(&r.name),
                    "name {:?} not in {input:?}",
                    r.name
                );
                let dots = shape == NameShape::Namespaced;
                assert!(
                    r.name.bytes().all(|b| b.is_ascii_alphanumeric()
                        || b == b'-'
                        || b == b'_'
                        || (dots && b == b'.')),
                    "name {:?}",
                    r.name
                );
                if let Some(q) = &r.qualifier {
                    assert!(
                        !q.is_empty() && input.ends_with(q.as_str()),
                        "qualifier {q:?} of {input:?}"
                    );
                }
                if let Some(a) = &r.account {
                    assert!(
                        a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()),
                        "account {a:?}"
                    );
                }
            }
            // The message is what a client sees; rendering it must not panic either.
            Err(e) => drop(e.to_string()),
        }
    }
});

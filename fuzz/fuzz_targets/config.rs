//! The config parser: `.github/paydown.yml` text to a validated config or
//! a list of errors.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = paydown_config::parse(text, ".github/paydown.yml");
    }
});

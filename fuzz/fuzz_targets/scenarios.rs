//! The scenario loader (`engine::scenarios::parse`) on any TOML, checked against the
//! specs of every provider.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signsim::engine::scenarios::ProviderSpec;
use std::sync::OnceLock;

fn specs() -> &'static [ProviderSpec] {
    static SPECS: OnceLock<Vec<ProviderSpec>> = OnceLock::new();
    SPECS.get_or_init(signsim::provider_specs)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = signsim::engine::scenarios::parse("fuzz.toml", text, specs());
});

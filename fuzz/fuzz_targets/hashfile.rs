//! Uanataca's hashfile (the JSON with a base64 DER messageDigest attribute).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = signsim::providers::uanataca::parse_hashfile(data);
});

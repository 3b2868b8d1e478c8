//! The body reader every provider shares (`wire::Fields::read` and `read_json`): the first
//! byte picks the Content-Type (multipart with a fixed boundary, form, JSON, none), the
//! rest is the body.
#![no_main]

use axum::body::Body;
use axum::extract::Request;
use libfuzzer_sys::fuzz_target;
use signsim::wire::Fields;
use std::sync::OnceLock;

const CONTENT_TYPES: &[Option<&str>] = &[
    Some("multipart/form-data; boundary=XyZ"),
    Some("multipart/form-data; boundary=\"XyZ\""),
    Some("multipart/form-data"),
    Some("application/x-www-form-urlencoded"),
    Some("application/json"),
    Some("text/plain"),
    None,
];

/// Small, so the fuzzer also reaches the too-large paths.
const LIMIT: usize = 4096;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    })
}

fn request(content_type: Option<&str>, body: &[u8]) -> Request {
    let mut builder = Request::builder().method("POST").uri("/");
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Body::from(body.to_vec())).expect("a request")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    runtime().block_on(async {
        if let Ok(fields) = Fields::read(request(content_type, body), LIMIT).await {
            for name in fields.values.keys() {
                let _ = fields.text(name);
                let _ = fields.flag(name);
            }
        }
        let _ = Fields::read_json(request(content_type, body), LIMIT).await;
    });
});

//! Every provider's body reader through its real extractors: the whole app is built once,
//! with a credential for each provider and a resource for the calls that name one, and each
//! input is one call. The first byte picks the call, the second the Content-Type, the rest
//! is the body. A panic anywhere on the way is a crash.
//!
//! The calls are not kept by hand: they are every operation with a request body in each
//! registered provider's OpenAPI document (`signsim::PROVIDERS`), in registry and document
//! order. What only the provider's own knowledge gives (credential, setup, path parameters,
//! error shape) is its entry in `reach.rs`; a registered provider without one crashes the
//! target at once, by name (and `tests/http/registry.rs` names it in every `cargo test`).
//! The seeds in `fuzz/corpus/bodies/` start with the index of their call in that order: an
//! operation added before theirs aims them at another call (still a valid input).
#![no_main]

mod reach;

use axum::body::Body;
use axum::extract::Request;
use libfuzzer_sys::fuzz_target;
use reach::{Errors, Reach, REACH};
use serde_json::Value;
use signsim::dispatch::Dispatch as Router;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=XyZ"),
    Some("text/plain"),
    None,
];

/// The methods an OpenAPI path item may hold.
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "PATCH"];

/// One call that reads a body: its provider, method and path (`{held}` still to fill).
struct Call {
    reach: &'static Reach,
    method: &'static str,
    path: String,
}

/// Every registered provider's operations with a request body, their path parameters
/// filled from `reach.rs`.
fn calls() -> Vec<Call> {
    let mut calls = Vec::new();
    for provider in signsim::PROVIDERS {
        let slug = provider.slug;
        let reach = REACH.iter().find(|r| r.slug == slug).unwrap_or_else(|| {
            panic!("fuzz/fuzz_targets/reach.rs: the registered provider '{slug}' has no entry")
        });
        let document: Value = serde_json::from_str(provider.openapi).expect("its document");
        let paths = document["paths"].as_object().expect("its paths");
        for (template, item) in paths {
            for method in METHODS {
                let operation = &item[method.to_ascii_lowercase()];
                if operation.get("requestBody").is_none() {
                    continue;
                }
                let mut path = format!("/{slug}{template}");
                for name in template
                    .split('{')
                    .skip(1)
                    .filter_map(|r| r.split_once('}'))
                {
                    let name = name.0;
                    let value = reach.params.iter().find(|(known, _)| *known == name);
                    let (_, value) = value.unwrap_or_else(|| {
                        panic!("fuzz/fuzz_targets/reach.rs: '{slug}' has no value for {{{name}}}")
                    });
                    path = path.replace(&format!("{{{name}}}"), value);
                }
                calls.push(Call {
                    reach,
                    method,
                    path,
                });
            }
        }
    }
    calls
}

struct World {
    runtime: tokio::runtime::Runtime,
    router: Router,
    calls: Vec<Call>,
    /// What each provider's setup call answered, by slug; made again after each reset.
    held: Mutex<HashMap<&'static str, String>>,
    count: AtomicUsize,
}

/// Every so many calls the app forgets everything (`POST /_signsim/reset`), so that what
/// the fuzzer creates does not pile up for the whole run.
const RESET_EVERY: usize = 2000;

fn request(
    method: &str,
    path: &str,
    auth: Option<&str>,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> Request {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(auth) = auth {
        builder = builder.header("authorization", auth);
    }
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(Body::from(body)).expect("a request")
}

async fn call(router: &Router, request: Request) -> (u16, Vec<u8>) {
    let response = router.clone().oneshot(request).await;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    (status, bytes.to_vec())
}

/// Makes every registered provider's setup call and keeps what each answered.
async fn hold(router: &Router) -> HashMap<&'static str, String> {
    let mut held = HashMap::new();
    for provider in signsim::PROVIDERS {
        let Some(reach) = REACH.iter().find(|r| r.slug == provider.slug) else {
            continue;
        };
        let Some(setup) = &reach.setup else {
            continue;
        };
        let body = setup.body.as_bytes().to_vec();
        let json = Some("application/json");
        let request = request("POST", setup.path, setup.credential, json, body);
        let (status, bytes) = call(router, request).await;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert!(
            status < 300,
            "setup {} answered {status}: {value}",
            setup.path
        );
        let kept = match value.pointer(setup.held) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            _ => panic!("setup {} answered no {}: {value}", setup.path, setup.held),
        };
        held.insert(reach.slug, kept);
    }
    held
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let calls = calls();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let (router, held) = runtime.block_on(async {
            let mut config = signsim::Config::default();
            config.engine.seed = Some(1);
            // Bodies past this are refused before they are read; small, so the fuzzer
            // reaches the refusal too.
            config.body_limit = 64 * 1024;
            let app = signsim::build(&config).expect("the app builds");
            let router = app.router();
            let held = hold(&router).await;
            (router, held)
        });
        World {
            runtime,
            router,
            calls,
            held: Mutex::new(held),
            count: AtomicUsize::new(0),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let [selector, content_type, body @ ..] = data else {
        return;
    };
    let world = world();
    let mut held = world.held.lock().unwrap_or_else(|p| p.into_inner());
    if world.count.fetch_add(1, Ordering::Relaxed) % RESET_EVERY == RESET_EVERY - 1 {
        *held = world.runtime.block_on(async {
            let reset = request("POST", "/_signsim/reset", None, None, Vec::new());
            call(&world.router, reset).await;
            hold(&world.router).await
        });
    }
    let chosen = &world.calls[usize::from(*selector) % world.calls.len()];
    let content_type = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
    let kept = held.get(chosen.reach.slug).map_or("", String::as_str);
    let path = chosen.path.replace("{held}", kept);
    let auth = chosen.reach.credential.map(|c| c.replace("{held}", kept));
    let request = request(
        chosen.method,
        &path,
        auth.as_deref(),
        content_type,
        body.to_vec(),
    );
    let (status, answer) = world.runtime.block_on(call(&world.router, request));
    check_shape(&chosen.reach.errors, &path, status, &answer);
});

/// Bad input gets the provider's own error shape (`reach::Errors`): an error in JSON where
/// the provider answers JSON, never axum's plain-text rejection; and nothing answers 5xx
/// but the documented 500s, which carry the provider's envelope (see
/// tests/http/hostile.rs).
fn check_shape(errors: &Errors, path: &str, status: u16, answer: &[u8]) {
    let documented_500 = match errors {
        Errors::AsAsked => {
            assert!(status < 500, "{path} answered {status}");
            return;
        }
        Errors::Json { documented_500 } => *documented_500,
    };
    if status < 400 {
        return;
    }
    let body: Value = serde_json::from_slice(answer).unwrap_or_else(|_| {
        panic!(
            "{path} answered {status} outside its shape: {:?}",
            String::from_utf8_lossy(answer)
        )
    });
    let documented = documented_500 && body["status"] == "500 Internal Server Error";
    assert!(
        status < 500 || documented,
        "{path} answered {status}: {body}"
    );
}

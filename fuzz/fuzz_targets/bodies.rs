//! Every provider's body reader through its real extractors: the whole app is built once,
//! with a credential for each provider and a resource for the calls that name one, and each
//! input is one call. The first byte picks the call, the second the Content-Type, the rest
//! is the body. A panic anywhere on the way is a crash.
#![no_main]

use axum::body::Body;
use axum::extract::Request;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use signsim::dispatch::Dispatch as Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=XyZ"),
    Some("text/plain"),
    None,
];

/// Each provider's calls that read a body; `{pk}` and `{envelope}` name the resources made
/// at start, `{auth}` is the provider's credential.
const CALLS: &[(&str, &str, Auth)] = &[
    ("POST", "/uanataca/api/v1/request", Auth::None),
    ("POST", "/uanataca/api/v1/token", Auth::None),
    ("POST", "/uanataca/api/v1/settings", Auth::None),
    ("POST", "/uanataca/api/v1/image", Auth::None),
    ("POST", "/uanataca/api/v1/metadata", Auth::None),
    ("POST", "/uanataca/api/v1/videoid", Auth::None),
    ("POST", "/uanataca/api/v1/document/{pk}", Auth::None),
    ("POST", "/uanataca/api/v1/otp/{pk}", Auth::None),
    ("POST", "/uanataca/api/v1/sign/{pk}", Auth::None),
    ("PUT", "/uanataca/api/v1/request/{pk}", Auth::None),
    ("POST", "/signal/auth/login", Auth::None),
    ("POST", "/signal/sign/request", Auth::Signal),
    ("POST", "/signal/sign", Auth::Signal),
    ("POST", "/signal/sign/retrieve", Auth::Signal),
    ("POST", "/signal/biometric", Auth::Signal),
    ("POST", "/qitech/sign/envelope", Auth::QiTech),
    ("PATCH", "/qitech/sign/envelope/{envelope}", Auth::QiTech),
    (
        "POST",
        "/qitech/sign/envelope/{envelope}/document",
        Auth::QiTech,
    ),
    (
        "POST",
        "/qitech/sign/envelope/{envelope}/signer/1/personal_document",
        Auth::QiTech,
    ),
    ("POST", "/mensatek/VerificarIdentidad", Auth::Mensatek),
    (
        "POST",
        "/mensatek/GetCertificadoVerificacion",
        Auth::Mensatek,
    ),
    ("POST", "/mensatek/GetCreditos", Auth::Mensatek),
    ("POST", "/identiasign/api/auth/login", Auth::None),
    (
        "POST",
        "/identiasign/api/signature_processes",
        Auth::IdentiaSign,
    ),
    (
        "PUT",
        "/identiasign/api/signature_processes",
        Auth::IdentiaSign,
    ),
    ("POST", "/identiasign/api/notify", Auth::IdentiaSign),
    ("POST", "/identiasign/api/labels", Auth::IdentiaSign),
];

#[derive(Clone, Copy)]
enum Auth {
    None,
    Signal,
    QiTech,
    Mensatek,
    IdentiaSign,
}

struct World {
    runtime: tokio::runtime::Runtime,
    router: Router,
    held: Mutex<Held>,
    calls: AtomicUsize,
}

/// The credentials and resources the calls use, made again after each reset.
struct Held {
    signal: String,
    identiasign: String,
    pk: String,
}

/// Every so many calls the app forgets everything (`POST /_signsim/reset`), so that what
/// the fuzzer creates does not pile up for the whole run.
const RESET_EVERY: usize = 2000;

const QITECH_KEY: &str = "fuzz-key";
const ENVELOPE: &str = "fuzz-envelope";

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

async fn json_call(router: &Router, path: &str, auth: Option<&str>, body: Value) -> Value {
    let body = body.to_string().into_bytes();
    let request = request("POST", path, auth, Some("application/json"), body);
    let (status, bytes) = call(router, request).await;
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert!(status < 300, "setup call {path} answered {status}: {value}");
    value
}

/// Logs in where a provider needs it and makes the resources the calls name.
async fn hold(router: &Router) -> Held {
    let signal = json_call(
        router,
        "/signal/auth/login",
        None,
        json!({ "username": "fuzzer", "password": "secret" }),
    )
    .await["token"]
        .as_str()
        .expect("a Signal token")
        .to_owned();
    let identiasign = json_call(
        router,
        "/identiasign/api/auth/login",
        None,
        json!({ "username": "entidad.pe", "clientname": "api@entidad.pe", "password": "s3cr3t" }),
    )
    .await["access_token"]
        .as_str()
        .expect("an IdentiaSign token")
        .to_owned();
    let created = json_call(
        router,
        "/uanataca/api/v1/request",
        None,
        json!({
            "token": "fd6a21e6fb7d43b9893a520d67d6ff60",
            "profile": "PFnubeQAFCiudadano",
            "given_name": "Ana",
            "surname_1": "Garcia",
            "serial_number": "12345678Z",
            "email": "signer@example.com",
            "mobile_phone_number": "+34611123123"
        }),
    )
    .await;
    let pk = created["details"]
        .as_u64()
        .expect("a request pk")
        .to_string();
    json_call(
        router,
        "/qitech/sign/envelope",
        Some(QITECH_KEY),
        json!({
            "id": ENVELOPE,
            "subject": "fuzz",
            "expiration_date": "2299-01-01",
            "signers": [{
                "id": "1",
                "name": "John Sample",
                "email": "john@example.com",
                "birthdate": "1992-09-15",
                "document_number": "111.111.111-11",
                "phone": { "international_dial_code": "55", "area_code": "11", "number": "988878722" },
                "document_submission_method": "email",
                "authentication_submission_method": "sms"
            }]
        }),
    )
    .await;
    Held {
        signal,
        identiasign,
        pk,
    }
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
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
            held: Mutex::new(held),
            calls: AtomicUsize::new(0),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let [selector, content_type, body @ ..] = data else {
        return;
    };
    let world = world();
    let mut held = world.held.lock().unwrap_or_else(|p| p.into_inner());
    if world.calls.fetch_add(1, Ordering::Relaxed) % RESET_EVERY == RESET_EVERY - 1 {
        *held = world.runtime.block_on(async {
            let reset = request("POST", "/_signsim/reset", None, None, Vec::new());
            call(&world.router, reset).await;
            hold(&world.router).await
        });
    }
    let (method, path, auth) = CALLS[usize::from(*selector) % CALLS.len()];
    let content_type = CONTENT_TYPES[usize::from(*content_type) % CONTENT_TYPES.len()];
    let path = path
        .replace("{pk}", &held.pk)
        .replace("{envelope}", ENVELOPE);
    let auth = match auth {
        Auth::None => None,
        Auth::Signal => Some(format!("Bearer {}", held.signal)),
        Auth::QiTech => Some(QITECH_KEY.to_owned()),
        Auth::Mensatek => Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("fuzz-user:fuzz-token")
        )),
        Auth::IdentiaSign => Some(format!("jwt-bearer {}", held.identiasign)),
    };
    let request = request(method, &path, auth.as_deref(), content_type, body.to_vec());
    let (status, answer) = world.runtime.block_on(call(&world.router, request));
    check_shape(&path, status, &answer);
});

/// Bad input gets the provider's own error shape: every provider but Mensatek (whose
/// answers follow `Resp`: JSON, XML or text, errors included) answers an error in JSON,
/// never axum's plain-text rejection; and nothing answers 5xx but Uanataca's documented
/// 500s, which carry its envelope (see tests/http/hostile.rs).
fn check_shape(path: &str, status: u16, answer: &[u8]) {
    if path.starts_with("/mensatek/") {
        assert!(status < 500, "{path} answered {status}");
        return;
    }
    if status < 400 {
        return;
    }
    let body: Value = serde_json::from_slice(answer).unwrap_or_else(|_| {
        panic!(
            "{path} answered {status} outside its shape: {:?}",
            String::from_utf8_lossy(answer)
        )
    });
    let documented_500 =
        path.starts_with("/uanataca/") && body["status"] == "500 Internal Server Error";
    assert!(
        status < 500 || documented_500,
        "{path} answered {status}: {body}"
    );
}

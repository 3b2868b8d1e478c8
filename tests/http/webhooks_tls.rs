//! Webhooks to https:// receivers: trusted when their certificate comes from the
//! simulator's CA or from a `--webhook-ca` file, refused otherwise.

use crate::common::{sample_pdf, start_with, Sim, DEMO_TOKEN};
use crate::receiver::eventually;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use signsim::pki::{Pki, ServerCert};
use signsim::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{crypto, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// What an https receiver saw: the bodies it was sent, and the handshakes clients gave up
/// on (a client that does not trust the certificate aborts there).
#[derive(Default)]
struct Seen {
    bodies: Mutex<Vec<Value>>,
    refused_handshakes: AtomicU32,
}

struct TlsReceiver {
    url: String,
    seen: Arc<Seen>,
}

impl TlsReceiver {
    fn bodies(&self) -> Vec<Value> {
        self.seen.bodies.lock().unwrap().clone()
    }
}

/// A TCP listener that hands axum only connections whose TLS handshake succeeded.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    seen: Arc<Seen>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        loop {
            let (stream, addr) = axum::serve::Listener::accept(&mut self.tcp).await;
            // One handshake at a time is plenty for a test receiver.
            match self.acceptor.accept(stream).await {
                Ok(tls) => return (tls, addr),
                Err(_) => {
                    self.seen.refused_handshakes.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

async fn receive(State(seen): State<Arc<Seen>>, body: Bytes) -> StatusCode {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.bodies.lock().unwrap().push(body);
    StatusCode::OK
}

/// An https receiver on 127.0.0.1 presenting `cert`, reached as `https://localhost:PORT/hook`.
async fn start_tls_receiver(cert: &ServerCert) -> TlsReceiver {
    let chain = CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let seen = Arc::new(Seen::default());
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}/hook",
        tcp.local_addr().unwrap().port()
    );
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(config)),
        seen: seen.clone(),
    };
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(seen.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    TlsReceiver { url, seen }
}

fn names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into()]
}

fn one_attempt() -> Config {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config.engine.webhook_retry.max_attempts = 1;
    config
}

/// An asynchronous Uanataca signature whose callback goes to `callback`; returns the pk.
async fn sign_async(sim: &Sim, callback: &str) -> u64 {
    let body = json!({
        "token": DEMO_TOKEN,
        "given_name": "Tls",
        "surname_1": "Hook",
        "email": "t@example.com",
        "mobile_phone_number": "+34600123997",
        "useasync": true,
        "callback": callback,
    });
    let pk = sim.post_json(&sim.api("request"), body).await.json()["details"]
        .as_u64()
        .unwrap();
    sim.upload(pk, vec![("file", "a.pdf", sample_pdf("Tls"))])
        .await;
    let signed = sim.sign_with_otp(&pk).await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    pk
}

/// Waits for the first recorded attempt and returns it.
async fn first_attempt(sim: &Sim) -> Value {
    let attempts = || async { sim.get(&sim.url("/_signsim/webhooks")).await.json() };
    eventually("the first webhook attempt", async || {
        !attempts().await.as_array().unwrap().is_empty()
    })
    .await;
    attempts().await[0].clone()
}

/// A PEM file in the temp directory, unique to this test process.
fn temp_pem(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "signsim-webhook-ca-{name}-{}.pem",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn https_receiver_with_a_certificate_from_the_simulator_ca() {
    let sim = start_with(one_attempt()).await;
    let cert = sim.running.engine.pki.issue_server(&names()).unwrap();
    let hook = start_tls_receiver(&cert).await;
    let pk = sign_async(&sim, &hook.url).await;

    let attempt = first_attempt(&sim).await;
    assert_eq!(attempt["url"], hook.url.as_str());
    assert_eq!(attempt["response_status"], 200, "{attempt}");
    assert_eq!(attempt["delivered"], true);
    assert_eq!(attempt["error"], Value::Null);
    let bodies = hook.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["status"], "ISSUED");
    assert_eq!(bodies[0]["request"].to_string(), pk.to_string());
}

/// A self-signed certificate for `localhost` and 127.0.0.1, from no CA at all.
fn self_signed() -> ServerCert {
    let made = rcgen::generate_simple_self_signed(names()).unwrap();
    ServerCert {
        cert_pem: made.cert.pem(),
        key_pem: made.signing_key.serialize_pem(),
    }
}

#[tokio::test]
async fn https_receiver_with_an_untrusted_certificate_is_not_delivered() {
    // Another throwaway CA has the same name as ours but not the same key.
    let stranger = Pki::new(None, None)
        .unwrap()
        .issue_server(&names())
        .unwrap();
    for (what, cert) in [("self-signed", self_signed()), ("stranger CA", stranger)] {
        let sim = start_with(one_attempt()).await;
        let hook = start_tls_receiver(&cert).await;
        sign_async(&sim, &hook.url).await;

        let attempt = first_attempt(&sim).await;
        assert_eq!(attempt["delivered"], false, "{what}");
        assert_eq!(attempt["response_status"], Value::Null, "{what}");
        // The cause, not just reqwest's "error sending request".
        let error = attempt["error"].as_str().unwrap();
        assert!(
            error.contains("invalid peer certificate"),
            "{what}: {error}"
        );
        assert!(hook.bodies().is_empty(), "{what}");
        assert!(
            hook.seen.refused_handshakes.load(Ordering::SeqCst) >= 1,
            "{what}"
        );
    }
}

#[tokio::test]
async fn webhook_ca_file_trusts_its_certificates() {
    let stranger = Pki::new(None, None).unwrap();
    let leaf = self_signed();
    // One or more certificates per file: another CA's, or the receiver's own self-signed one.
    let path = temp_pem("bundle", &format!("{}{}", stranger.ca_pem(), leaf.cert_pem));
    let stranger_cert = stranger.issue_server(&names()).unwrap();
    for (what, cert) in [("stranger CA", stranger_cert), ("self-signed", leaf)] {
        let mut config = one_attempt();
        config.engine.webhook_ca = Some(path.clone());
        let sim = start_with(config).await;
        let hook = start_tls_receiver(&cert).await;
        sign_async(&sim, &hook.url).await;

        let attempt = first_attempt(&sim).await;
        assert_eq!(attempt["delivered"], true, "{what}: {attempt}");
        assert_eq!(hook.bodies().len(), 1, "{what}");
    }
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn unusable_webhook_ca_file_stops_the_start() {
    let start_error = |path: PathBuf| async move {
        let mut config = Config::default();
        config.engine.webhook_ca = Some(path);
        match signsim::spawn(config).await {
            Ok(_) => panic!("started with an unusable --webhook-ca"),
            Err(e) => e.to_string(),
        }
    };
    let missing = std::env::temp_dir().join("signsim-no-such-dir/ca.pem");
    let error = start_error(missing.clone()).await;
    assert!(
        error.contains("cannot read the webhook CA file") && error.contains("signsim-no-such-dir"),
        "{error}"
    );

    let empty = temp_pem("empty", "just some text\n");
    let error = start_error(empty.clone()).await;
    assert!(error.contains("holds no certificate"), "{error}");

    let broken = temp_pem(
        "broken",
        "-----BEGIN CERTIFICATE-----\n!!! not base64 !!!\n-----END CERTIFICATE-----\n",
    );
    let error = start_error(broken.clone()).await;
    assert!(error.contains("not PEM"), "{error}");

    let not_a_cert = temp_pem(
        "not-a-cert",
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    );
    let error = start_error(not_a_cert.clone()).await;
    assert!(error.contains("certificate 1 is not usable"), "{error}");

    for path in [empty, broken, not_a_cert] {
        std::fs::remove_file(path).ok();
    }
}

#[test]
fn server_certificates_need_good_names() {
    let pki = Pki::new(Some(1), None).unwrap();
    assert!(pki.issue_server(&[]).is_err());
    assert!(pki.issue_server(&["".into()]).is_err());
    assert!(pki.issue_server(&["bad\u{e9}name".into()]).is_err());
    let cert = pki.issue_server(&names()).unwrap();
    assert!(cert.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(cert.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
}

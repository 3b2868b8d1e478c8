//! `--tls`: https on the same port with a certificate from the simulator's CA, so a client
//! that trusts `ca.pem` alone (no system roots) connects, and one that does not is refused;
//! the links handed out are https.

use crate::common::{start_with, Sim};
use crate::qitech::{signer, KEY};
use serde_json::json;
use signsim::tls::Tls;
use signsim::Config;

async fn start_https() -> Sim {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    config.tls = Some(Tls::Issued {
        names: vec!["signsim.test".into()],
    });
    start_with(config).await
}

/// A client whose only trust root is `ca_pem`.
pub fn trusting(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap()
}

fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[tokio::test]
async fn a_client_trusting_only_the_ca_gets_https_and_https_links() {
    let sim = start_https().await;
    let client = trusting(sim.running.engine.pki.ca_pem());
    let health_url = sim.url("/_signsim/health");
    assert!(health_url.starts_with("https://127.0.0.1:"), "{health_url}");
    let health = client.get(&health_url).send().await.unwrap();
    assert_eq!(health.status(), 200);
    // `localhost` is on the certificate too.
    let by_name = format!(
        "https://localhost:{}/_signsim/health",
        sim.running.addr.port()
    );
    assert_eq!(client.get(&by_name).send().await.unwrap().status(), 200);

    // A link the API hands out is https, and opens with the same trust.
    let created = client
        .post(sim.url("/qitech/sign/envelope"))
        .header("authorization", KEY)
        .json(&json!({
            "id": "tls-1", "subject": "TLS", "expiration_date": "2099-01-01",
            "signers": [signer("1", "ana@example.com")],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let document = client
        .post(sim.url("/qitech/sign/envelope/tls-1/document"))
        .header("authorization", KEY)
        .json(&json!({
            "document_b64": base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                crate::common::sample_pdf("TLS"),
            ),
            "name": "TLS", "document_type": "pdf",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), 201);
    let submitted = client
        .patch(sim.url("/qitech/sign/envelope/tls-1"))
        .header("authorization", KEY)
        .json(&json!({ "status": "submitted" }))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 200);
    let envelope: serde_json::Value = client
        .get(sim.url("/qitech/sign/envelope/tls-1"))
        .header("authorization", KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = envelope["signers"][0]["signature_url"].as_str().unwrap();
    assert!(link.starts_with("https://"), "{link}");
    let page = client
        .get(link)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_ca_is_refused() {
    let sim = start_https().await;
    // Another CA: the one of a simulator started separately.
    let other = signsim::pki::Pki::new(Some(7), None).unwrap();
    let stranger = trusting(other.ca_pem());
    let refused = stranger
        .get(sim.url("/_signsim/health"))
        .send()
        .await
        .expect_err("a certificate from an untrusted CA must be refused");
    let why = causes(&refused);
    assert!(why.contains("certificate"), "{why}");

    // Plain http to the https port gets no answer from the app.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/_signsim/health", sim.running.addr))
        .send()
        .await;
    assert!(plain.map(|r| r.status() != 200).unwrap_or(true));

    // And the trusted client still gets through: the server survived both.
    let client = trusting(sim.running.engine.pki.ca_pem());
    let health = client
        .get(sim.url("/_signsim/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

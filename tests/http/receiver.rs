//! A webhook receiver for tests: records what it gets and answers 500 to the first
//! `failures` calls.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Inbox {
    failures_left: AtomicU32,
    pub received: Mutex<Vec<(HeaderMap, Bytes)>>,
}

pub struct Receiver {
    pub url: String,
    pub inbox: Arc<Inbox>,
}

impl Receiver {
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.inbox
            .received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, body)| serde_json::from_slice(body).unwrap())
            .collect()
    }
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    inbox.received.lock().unwrap().push((headers, body));
    let failing = inbox
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if failing {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// Starts a receiver on an ephemeral port; it answers 500 to the first `failures` calls.
pub async fn start(failures: u32) -> Receiver {
    let inbox = Arc::new(Inbox {
        failures_left: AtomicU32::new(failures),
        ..Inbox::default()
    });
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    Receiver { url, inbox }
}

/// Polls `check` until it holds, for at most five seconds of real time.
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..250 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

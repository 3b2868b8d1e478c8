//! The ceiling for signsim's static endpoint: a bare axum 0.8 server answering
//! `GET /uanataca/api/v1/hello` with the body signsim answers there, and nothing else.
//!
//! usage: signsim-hello [PORT]   (default 0: the system picks one)
//! Prints `hello http://ADDR` on standard output once listening, as `signsim serve` prints
//! `signsim http://ADDR`, so scripts start both the same way.

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;

/// What signsim answers (`uanataca::wire::ok("Hello")`): the envelope, serialized by
/// serde_json in the same key order. Written as a constant here on purpose: the ceiling is
/// a server doing the least work that gives the same bytes.
const BODY: &str = r#"{"status":"200 OK","details":"Hello"}"#;

async fn hello() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    ([(CONTENT_TYPE, "application/json")], BODY)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(text) => text.parse().map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a port: {text}"),
            )
        })?,
        None => 0,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("hello http://{}", listener.local_addr()?);
    let app = Router::new().route("/uanataca/api/v1/hello", get(hello));
    axum::serve(listener, app).await
}

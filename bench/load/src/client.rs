//! One keep-alive HTTP/1.1 connection per task, straight on hyper's client connection:
//! no pool and no retries, so every request costs the server one parse and one answer,
//! and a failure shows as a failure.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where requests go: `host:port` to connect to, and the path every URL is relative to.
#[derive(Clone, Debug)]
pub struct Target {
    pub authority: String,
    /// The URL's path without its trailing slash (`""` for `http://host:port`).
    pub base_path: String,
}

impl Target {
    /// Reads `http://host:port[/path]`; only plain HTTP, as signsim serves.
    pub fn parse(url: &str) -> Result<Target, String> {
        let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("{url}: only http:// URLs are supported"));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("{url}: no host"))?
            .to_string();
        let authority = if uri.port().is_some() {
            authority
        } else {
            format!("{authority}:80")
        };
        Ok(Target {
            authority,
            base_path: uri.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The path of `url` when it is an absolute URL on this target (a link the simulator
    /// handed out), or `url` itself when it is already a path.
    pub fn path_of(&self, url: &str) -> Result<String, String> {
        if url.starts_with('/') {
            return Ok(url.to_owned());
        }
        let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        Ok(uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned()))
    }
}

/// A request's answer: status and whole body.
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

pub struct Conn {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
    /// Headers sent on every request: the tenant or the API key of the task.
    fixed: Vec<(HeaderName, HeaderValue)>,
}

impl Conn {
    pub fn new(target: Target) -> Conn {
        Conn {
            target,
            sender: None,
            fixed: Vec::new(),
        }
    }

    /// Sends `name: value` on every request of this connection.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Result<Conn, String> {
        let value = HeaderValue::from_str(value).map_err(|e| format!("{name}: {e}"))?;
        self.fixed.push((HeaderName::from_static(name), value));
        Ok(self)
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    async fn connect(&mut self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = TcpStream::connect(&self.target.authority)
            .await
            .map_err(|e| format!("connect {}: {e}", self.target.authority))?;
        // Requests are small and each waits for its answer: Nagle would only add delay.
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        // The connection's I/O runs as its own task; it ends when the sender is dropped.
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Sends one request on the kept-alive connection, reconnecting first when the last
    /// one failed. `path` is relative to the target's base path.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Bytes,
    ) -> Result<Answer, String> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.connect().await?,
        };
        let uri = match format!("{}{path}", self.target.base_path) {
            empty if empty.is_empty() => "/".to_owned(),
            uri => uri,
        };
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(HOST, &self.target.authority);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        for (name, value) in &self.fixed {
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("request: {e}"))?;
        sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{path}: body: {e}"))?
            .to_bytes();
        // Only a connection that answered whole is kept for the next request.
        self.sender = Some(sender);
        Ok(Answer { status, body })
    }

    pub async fn get(&mut self, path: &str) -> Result<Answer, String> {
        self.send(Method::GET, path, None, Bytes::new()).await
    }

    pub async fn json(
        &mut self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Answer, String> {
        let bytes = Bytes::from(body.to_string());
        self.send(method, path, Some("application/json"), bytes)
            .await
    }
}

/// The answer when its status is `expected`; otherwise an error naming the call, the status
/// and the start of the body, so a failing flow says why.
pub fn expect(step: &str, answer: Answer, expected: u16) -> Result<Answer, String> {
    if answer.status.as_u16() == expected {
        return Ok(answer);
    }
    let shown = &answer.body[..answer.body.len().min(200)];
    Err(format!(
        "{step}: {} (expected {expected}): {}",
        answer.status,
        String::from_utf8_lossy(shown)
    ))
}

/// The answer's body as JSON.
pub fn json_of(step: &str, answer: &Answer) -> Result<serde_json::Value, String> {
    serde_json::from_slice(&answer.body).map_err(|e| format!("{step}: not JSON: {e}"))
}

//! Helpers shared by the black-box tests.

use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method, Response};
use serde_json::{json, Value};
use signsim::{spawn, Config, Running};

pub const DEMO_TOKEN: &str = "fd6a21e6fb7d43b9893a520d67d6ff60";

pub struct Sim {
    pub running: Running,
    pub http: Client,
}

/// A fresh simulator with a fixed seed, on its own port.
pub async fn start() -> Sim {
    let mut config = Config::default();
    config.engine.seed = Some(42);
    start_with(config).await
}

pub async fn start_with(config: Config) -> Sim {
    let running = spawn(config).await.expect("simulator starts");
    Sim {
        running,
        http: Client::new(),
    }
}

/// An HTTP answer reduced to what tests assert on.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|_| {
            panic!(
                "expected JSON, got {} {:?}",
                self.status,
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    /// `{"code": 200, "body": {...}}`, the shape snapshots pin.
    pub fn shape(&self) -> Value {
        json!({ "code": self.status, "body": self.json() })
    }
}

pub async fn answer(response: Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = response.bytes().await.expect("body").to_vec();
    Answer {
        status,
        content_type,
        bytes,
    }
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        self.running.url(path)
    }

    /// A one-shot API path: `api("otp/1464")`.
    pub fn api(&self, path: &str) -> String {
        self.url(&format!("/uanataca/api/v1/{path}"))
    }

    /// Loads a scenario file (TOML) through `POST /_signsim/scenarios`; it must be accepted.
    pub async fn load_scenarios(&self, toml: &str) {
        let loaded = self
            .post_raw(
                &self.url("/_signsim/scenarios"),
                Some("application/toml"),
                toml.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(loaded.status, 200, "{:?}", loaded.json());
    }

    pub async fn get(&self, url: &str) -> Answer {
        answer(self.http.get(url).send().await.expect("request sent")).await
    }

    pub async fn delete(&self, url: &str) -> Answer {
        answer(self.http.delete(url).send().await.expect("request sent")).await
    }

    pub async fn post_json(&self, url: &str, body: Value) -> Answer {
        answer(
            self.http
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    /// A body sent as raw bytes with an optional Content-Type.
    pub async fn post_raw(&self, url: &str, content_type: Option<&str>, body: Vec<u8>) -> Answer {
        let mut request = self.http.request(Method::POST, url).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        answer(request.send().await.expect("request sent")).await
    }

    /// Submits the first form of `opened` (the page at `page`, as `browse` got it) with
    /// `fields` filled in, beside the form's hidden inputs, to the form's `action`: the
    /// same call a person makes by pressing the button.
    pub async fn submit_form(
        &self,
        page: &str,
        opened: &Answer,
        fields: &[(&str, &str)],
    ) -> Answer {
        let html = String::from_utf8_lossy(&opened.bytes).into_owned();
        let form = html
            .split("<form")
            .nth(1)
            .unwrap_or_else(|| panic!("no form on {page}: {html}"));
        let action = attribute(form, "action").unwrap_or_else(|| page.to_owned());
        let action = if action.starts_with('/') {
            self.url(&unescape(&action))
        } else {
            unescape(&action)
        };
        let mut posted: Vec<(String, String)> = form
            .split("<input")
            .skip(1)
            .filter(|input| attribute(input, "type").as_deref() == Some("hidden"))
            .filter_map(|input| Some((attribute(input, "name")?, attribute(input, "value")?)))
            .map(|(name, value)| (unescape(&name), unescape(&value)))
            .collect();
        posted.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let response = self
            .http
            .post(&action)
            .header("accept", "text/html")
            .form(&posted)
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    /// A GET as a browser sends it, asking for a page.
    pub async fn browse(&self, url: &str) -> Answer {
        let response = self
            .http
            .get(url)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    pub async fn post_form(&self, url: &str, form: Form) -> Answer {
        answer(
            self.http
                .post(url)
                .multipart(form)
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    /// Creates an approved request with the demo token; returns its pk.
    pub async fn create_request(&self, given_name: &str) -> u64 {
        let answer = self
            .post_form(&self.api("request"), signer_form(given_name))
            .await;
        assert_eq!(answer.status, 201, "{:?}", answer.json());
        answer.json()["details"].as_u64().expect("pk")
    }

    pub async fn upload(&self, pk: u64, files: Vec<(&str, &str, Vec<u8>)>) -> Answer {
        let mut form = Form::new();
        for (field, filename, bytes) in files {
            form = form.part(
                field.to_owned(),
                Part::bytes(bytes).file_name(filename.to_owned()),
            );
        }
        self.post_form(&self.api(&format!("document/{pk}")), form)
            .await
    }

    /// The OTP most recently "sent" by SMS for request `pk`'s phone.
    /// Uanataca: asks for an OTP for request `pk`, reads it from the outbox and signs with
    /// it; the answer of the sign call.
    pub async fn sign_with_otp(&self, pk: &impl std::fmt::Display) -> Answer {
        self.post_json(&self.api(&format!("otp/{pk}")), json!({}))
            .await;
        let otp = self.last_otp().await;
        self.post_json(&self.api(&format!("sign/{pk}")), json!({ "secret": otp }))
            .await
    }

    pub async fn last_otp(&self) -> String {
        let messages = self
            .get(&self.url("/_signsim/outbox?provider=uanataca"))
            .await
            .json();
        messages
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| m["otp"].as_str())
            .expect("an OTP in the outbox")
            .to_owned()
    }
}

/// The create-request form of the docs' quick start.
pub fn signer_form(given_name: &str) -> Form {
    Form::new()
        .text("token", DEMO_TOKEN)
        .text("profile", "PFnubeQAFCiudadano")
        .text("given_name", given_name.to_owned())
        .text("surname_1", "Garcia")
        .text("surname_2", "Lopez")
        .text("serial_number", "12345678Z")
        .text("email", "signer@example.com")
        .text("mobile_phone_number", "+34600123123")
}

/// A small real PDF to sign.
pub fn sample_pdf(title: &str) -> Vec<u8> {
    signsim::pki::text_pdf(title, &[("Purpose".into(), "signsim test document".into())])
}

/// A small valid RGB PNG (`width` x `height`, a diagonal gradient), encoded by hand with
/// stored deflate blocks so the tests need no image library.
pub fn sample_png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend([(x * 255 / width) as u8, (y * 255 / height) as u8, 160]);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend(len.to_le_bytes());
        zlib.extend((!len).to_le_bytes());
        zlib.extend(*block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend(((b << 16) | a).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// The value of `name="..."` in the first tag of `html`.
fn attribute(html: &str, name: &str) -> Option<String> {
    let tag = html.split('>').next()?;
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')?;
    Some(tag[start..start + end].to_owned())
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

//! How the `bodies` target reaches each provider, keyed by slug: the credential its calls
//! carry, what fills the path parameters of its calls, the shape its errors take, and the
//! one setup call whose answer holds what `{held}` stands for. The calls themselves are
//! not listed here: they are every operation with a request body in each registered
//! provider's OpenAPI document (`signsim::PROVIDERS`).
//!
//! Plain data with no dependencies, so that `tests/http/registry.rs` includes this file as
//! well and names a registered provider without an entry, or a path parameter without a
//! value, in every `cargo test` (the fuzz workspace itself is built only by ci/fuzz.sh).

/// What the `bodies` target knows of one provider.
pub struct Reach {
    pub slug: &'static str,
    /// Made at start and after each reset; its answer holds what `{held}` stands for below.
    pub setup: Option<Setup>,
    /// The `Authorization` header of every call (none: the API takes no credential).
    pub credential: Option<&'static str>,
    /// Each path parameter of its calls, by name, and its value.
    pub params: &'static [(&'static str, &'static str)],
    pub errors: Errors,
}

/// A JSON `POST` whose answer holds a value the calls need (a token, a resource's id).
pub struct Setup {
    pub path: &'static str,
    pub credential: Option<&'static str>,
    pub body: &'static str,
    /// The JSON pointer of the value in the answer.
    pub held: &'static str,
}

/// The shape a provider's answers to bad input take.
pub enum Errors {
    /// JSON, never a plain-text rejection, and no 5xx but the documented 500s when
    /// `documented_500` (Uanataca's, which carry its envelope: `"status": "500 Internal
    /// Server Error"`).
    Json { documented_500: bool },
    /// In the format the request asked for (Mensatek's `Resp`: JSON, XML or text): only
    /// "no 5xx" is checked.
    AsAsked,
}

/// Every provider's entry. A provider added to the registry needs one here.
pub const REACH: &[Reach] = &[
    Reach {
        slug: "uanataca",
        // No HTTP credential; a request to name in the calls that take one.
        setup: Some(Setup {
            path: "/uanataca/api/v1/request",
            credential: None,
            body: r#"{"token": "fd6a21e6fb7d43b9893a520d67d6ff60", "profile": "PFnubeQAFCiudadano",
                "given_name": "Ana", "surname_1": "Garcia", "serial_number": "12345678Z",
                "email": "signer@example.com", "mobile_phone_number": "+34611123123"}"#,
            held: "/details",
        }),
        credential: None,
        params: &[("pk", "{held}"), ("request_pk", "{held}")],
        errors: Errors::Json {
            documented_500: true,
        },
    },
    Reach {
        slug: "signal",
        setup: Some(Setup {
            path: "/signal/auth/login",
            credential: None,
            body: r#"{"username": "fuzzer", "password": "secret"}"#,
            held: "/token",
        }),
        credential: Some("Bearer {held}"),
        params: &[],
        errors: Errors::Json {
            documented_500: false,
        },
    },
    Reach {
        slug: "mensatek",
        setup: None,
        // fuzz-user:fuzz-token
        credential: Some("Basic ZnV6ei11c2VyOmZ1enotdG9rZW4="),
        params: &[],
        errors: Errors::AsAsked,
    },
    Reach {
        slug: "identiasign",
        setup: Some(Setup {
            path: "/identiasign/api/auth/login",
            credential: None,
            body: r#"{"username": "entidad.pe", "clientname": "api@entidad.pe", "password": "s3cr3t"}"#,
            held: "/access_token",
        }),
        credential: Some("jwt-bearer {held}"),
        params: &[],
        errors: Errors::Json {
            documented_500: false,
        },
    },
    Reach {
        slug: "qitech",
        // An envelope to name in the calls that take one; the API key is any string.
        setup: Some(Setup {
            path: "/qitech/sign/envelope",
            credential: Some("fuzz-key"),
            body: r#"{"id": "fuzz-envelope", "subject": "fuzz", "expiration_date": "2299-01-01",
                "signers": [{"id": "1", "name": "John Sample", "email": "john@example.com",
                "birthdate": "1992-09-15", "document_number": "111.111.111-11",
                "phone": {"international_dial_code": "55", "area_code": "11", "number": "988878722"},
                "document_submission_method": "email", "authentication_submission_method": "sms"}]}"#,
            held: "/id",
        }),
        credential: Some("fuzz-key"),
        params: &[("envelope_id", "{held}"), ("signer_id", "1")],
        errors: Errors::Json {
            documented_500: false,
        },
    },
];

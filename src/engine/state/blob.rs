//! Serde forms for what the models hold that JSON has no good form for.
//!
//! Documents and images are `bytes::Bytes`, which serde would write as an array of
//! numbers (four to five bytes of JSON per byte); these write them as base64 strings
//! (4 per 3). Use with `#[serde(with = "crate::engine::state::blob")]`, and `blob::option`
//! for an `Option<Bytes>`. Provider slugs (`&'static str`) use `blob::slug`.

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serializer};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&BASE64.encode(bytes))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Bytes, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    BASE64
        .decode(text.as_bytes())
        .map(Bytes::from)
        .map_err(serde::de::Error::custom)
}

pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        bytes: &Option<Bytes>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => super::serialize(bytes, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Bytes>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        text.map(|text| {
            BASE64
                .decode(text.as_bytes())
                .map(Bytes::from)
                .map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

/// A provider slug as a model keeps it. An alias, because serde's derive would otherwise
/// see `&str` and make the type borrow from its input (`'de: 'static`), which no state
/// file can satisfy.
pub type Slug = &'static str;

/// A provider slug (`&'static str` in the models): written as the string, read back as
/// the registry's own `&'static str`, so nothing is leaked; an unknown slug is an error.
///
/// The engine is told the registry's slugs (`Engine::new` passes those of the specs it is
/// given to `know`); the engine never looks the registry up itself. They are kept
/// process-wide because serde's `with` functions take no context; every engine of a
/// process is made for the same registry.
pub mod slug {
    use super::*;
    use std::sync::RwLock;

    /// Every slug `know` was told, in the order it was told them.
    static KNOWN: RwLock<Vec<&'static str>> = RwLock::new(Vec::new());

    /// Makes `slugs` readable from a state file.
    pub fn know(slugs: impl IntoIterator<Item = &'static str>) {
        let mut known = KNOWN
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for slug in slugs {
            if !known.contains(&slug) {
                known.push(slug);
            }
        }
    }

    /// The known slug spelled `text`, as the registry's own `&'static str`.
    fn known(text: &str) -> Option<&'static str> {
        KNOWN
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .find(|slug| **slug == text)
            .copied()
    }

    pub fn serialize<S: Serializer>(slug: &&'static str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(slug)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<&'static str, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        known(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown provider '{text}'")))
    }
}

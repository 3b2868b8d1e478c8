//! What a part of the state does to survive a restart (`--state-file`): it implements
//! [`Persist`] (copy itself under its lock as a [`Snapshot`]; replace itself from JSON).
//! Every part of the engine implements it in its own file, every provider store through
//! `TenantStore`; `state` puts them in one file, and the app (`crate::saver`) decides
//! when.

use serde::de::DeserializeOwned;

/// A part of the state that can be saved and restored.
pub trait Persist: Send + Sync {
    /// A copy of the contents, taken under short locks; encoded later, off the request path.
    fn snapshot(&self) -> Box<dyn Snapshot>;
    /// Replaces the contents with a snapshot's JSON.
    fn restore(&self, json: &str) -> Result<(), String>;
}

/// A part of the state, copied under its owner's lock and encoded later, off the request
/// path (in a blocking task).
pub trait Snapshot: Send {
    fn encode(&self, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

impl<T: serde::Serialize + Send> Snapshot for T {
    fn encode(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        serde_json::to_writer(out, self)
    }
}

/// Parses a section's JSON, the error as text for `StateError::Section`.
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

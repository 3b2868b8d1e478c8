//! The state file on disk: one header line, then one JSON object of named sections.
//!
//! ```text
//! signsim-state 1 0.1.0 <payload length> <sha256 of the payload, hex>\n
//! {"engine.clock":...,"qitech.envelopes":[...],...}
//! ```
//!
//! The header is what makes a half-written or foreign file impossible to mistake for a
//! state: the length catches a truncated file, the checksum any other damage, the format
//! number and the version a file an older or newer signsim wrote (whose sections may not
//! read the same). Each section is encoded by its owner, so the file is the sections'
//! JSON put side by side; `tail -n +2 FILE | jq` shows it.
//!
//! Writing is atomic: the bytes go to a new temp file `FILE.<pid>.<n>.<random>.tmp` in the
//! same directory, are flushed to the disk (`fsync`), and the temp file is renamed over
//! `FILE`, then the directory is flushed so that the rename itself survives a power cut.
//! A crash at any point leaves either the old file or the new one at `FILE`; a temp file
//! is never read.
//!
//! The file holds the CA key, the JWT secret and every tenant's documents, so it is
//! private: the temp file is made with mode 0600 (the rename keeps it), and made new
//! (`O_CREAT|O_EXCL`), so that nothing already at its path is written through: O_EXCL
//! fails on a symbolic link there, dangling or not, instead of following it (POSIX), and
//! the name is fresh each save, so nobody can plant one in advance.

use crate::engine::persist::Snapshot;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The first word of every state file.
const MAGIC: &str = "signsim-state";
/// The layout of the file and of the engine's sections; bumped when either changes.
// 2: tenants are (provider, name) everywhere, a clock per tenant, scenario counters per
// scenario and tenant, scripted-status timers as `[id, status]` strings.
pub const FORMAT: u32 = 2;
/// The signsim that wrote a file; another one is refused, since a provider's model may
/// have changed shape between versions without the format number moving.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why a state file could not be read or written. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the state file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the state file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a signsim state file (it does not start with \"{MAGIC}\"); move it away or pass another --state-file", path.display())]
    NotState { path: PathBuf },
    #[error("the state file {} was written by signsim {version} (state format {format}); this is signsim {VERSION} (format {FORMAT}), which cannot read it: move it away to start afresh", path.display())]
    OtherVersion {
        path: PathBuf,
        format: String,
        version: String,
    },
    #[error("the state file {} is truncated or damaged ({reason}); it was not read: move it away to start afresh", path.display())]
    Corrupt { path: PathBuf, reason: String },
    #[error("the state file {} has a section '{section}' this signsim cannot read: {reason}", path.display())]
    Section {
        path: PathBuf,
        section: String,
        reason: String,
    },
    #[error("cannot encode the state section '{section}': {reason}")]
    Encode { section: String, reason: String },
}

/// A state file's sections, checked and parsed as far as "name → its JSON".
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub sections: BTreeMap<String, Box<RawValue>>,
}

impl Loaded {
    /// A section's JSON, if the file has it.
    pub fn section(&self, name: &str) -> Option<&str> {
        self.sections.get(name).map(|raw| raw.get())
    }

    /// The error for a section that does not read.
    pub fn bad_section(&self, section: &str, reason: impl ToString) -> StateError {
        StateError::Section {
            path: self.path.clone(),
            section: section.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// The whole file, header and payload, for `sections`.
pub fn encode(sections: &[(String, Box<dyn Snapshot>)]) -> Result<Vec<u8>, StateError> {
    let mut payload = Vec::new();
    payload.push(b'{');
    for (i, (name, snapshot)) in sections.iter().enumerate() {
        if i > 0 {
            payload.push(b',');
        }
        let encode_error = |e: serde_json::Error| StateError::Encode {
            section: name.clone(),
            reason: e.to_string(),
        };
        serde_json::to_writer(&mut payload, name).map_err(encode_error)?;
        payload.push(b':');
        snapshot.encode(&mut payload).map_err(encode_error)?;
    }
    payload.push(b'}');
    let digest = hex::encode(Sha256::digest(&payload));
    let mut file = format!("{MAGIC} {FORMAT} {VERSION} {} {digest}\n", payload.len()).into_bytes();
    file.extend_from_slice(&payload);
    Ok(file)
}

/// Where a save is written before it is renamed over `path`: a name no save used before
/// (the process, a count of saves, random bytes), beside `path`.
pub fn temp_path(path: &Path) -> PathBuf {
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let count = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let random: [u8; 8] = rand::random();
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(
        ".{}.{count}.{}.tmp",
        std::process::id(),
        hex::encode(random)
    ));
    path.with_file_name(name)
}

/// A new file at `temp`, readable and writable by its owner alone; fails if anything
/// (a file, a symbolic link) is already there.
fn create_private(temp: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(temp)
}

/// Writes `bytes` to `path` atomically and privately (see the module's comment).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let error = |source| StateError::Write {
        path: path.to_owned(),
        source,
    };
    let temp = temp_path(path);
    let mut file = create_private(&temp).map_err(error)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temp, path)
        });
    if let Err(e) = written {
        // Ours (made new above): nothing else is removed.
        std::fs::remove_file(&temp).ok();
        return Err(error(e));
    }
    // The rename is durable once the directory is; some systems cannot open a directory
    // for this, and the file is complete either way, so a failure here is not an error.
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if let Ok(dir) = std::fs::File::open(dir) {
        dir.sync_all().ok();
    }
    Ok(())
}

/// The most a state file may weigh when the stores may hold `process_bytes`: documents are
/// written in base64 (4/3 of their size), plus room for the rest (resources, logs, keys).
pub fn limit_for(process_bytes: u64) -> u64 {
    (process_bytes / 3)
        .saturating_mul(4)
        .saturating_add(256 * 1024 * 1024)
}

/// Reads and checks the state file at `path`, at most `limit` bytes of it (it holds every
/// document: see `limit_for`); `None` when there is none yet.
pub fn read(path: &Path, limit: u64) -> Result<Option<Loaded>, StateError> {
    let bytes = match crate::files::read_bounded(path, limit) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Read {
                path: path.to_owned(),
                source,
            })
        }
    };
    let corrupt = |reason: String| StateError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let not_state = || StateError::NotState {
        path: path.to_owned(),
    };
    let Some(newline) = bytes.iter().position(|b| *b == b'\n') else {
        return Err(if bytes.starts_with(MAGIC.as_bytes()) {
            corrupt("the header line ends early".into())
        } else {
            not_state()
        });
    };
    let (header, payload) = bytes.split_at(newline);
    let payload = payload.get(1..).unwrap_or_default();
    let header = std::str::from_utf8(header).map_err(|_| not_state())?;
    let fields: Vec<&str> = header.split(' ').collect();
    let [magic, format, version, length, digest] = fields[..] else {
        return Err(if header.starts_with(MAGIC) {
            corrupt(format!("unreadable header \"{header}\""))
        } else {
            not_state()
        });
    };
    if magic != MAGIC {
        return Err(not_state());
    }
    if format != FORMAT.to_string() || version != VERSION {
        return Err(StateError::OtherVersion {
            path: path.to_owned(),
            format: format.to_owned(),
            version: version.to_owned(),
        });
    }
    let length: usize = length
        .parse()
        .map_err(|_| corrupt(format!("the length \"{length}\" is not a number")))?;
    if payload.len() != length {
        return Err(corrupt(format!(
            "{} bytes of state where the header promises {length}",
            payload.len()
        )));
    }
    if hex::encode(Sha256::digest(payload)) != digest {
        return Err(corrupt("the checksum does not match".into()));
    }
    let sections = serde_json::from_slice(payload)
        .map_err(|e| corrupt(format!("the sections do not parse: {e}")))?;
    Ok(Some(Loaded {
        path: path.to_owned(),
        sections,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections() -> Vec<(String, Box<dyn Snapshot>)> {
        vec![
            ("a".to_owned(), Box::new(vec![1, 2, 3])),
            ("b".to_owned(), Box::new("text")),
        ]
    }

    #[test]
    fn what_is_written_reads_back() {
        let dir = std::env::temp_dir().join(format!("signsim-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        write_atomic(&path, &encode(&sections()).unwrap()).unwrap();
        let loaded = read(&path, u64::MAX).unwrap().unwrap();
        assert_eq!(loaded.section("a"), Some("[1,2,3]"));
        assert_eq!(loaded.section("b"), Some("\"text\""));
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, ["state"], "no temp file is left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn every_damage_is_refused() {
        let dir = std::env::temp_dir().join(format!("signsim-damage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state");
        let good = encode(&sections()).unwrap();
        let check = |bytes: &[u8], expected: &str| {
            std::fs::write(&path, bytes).unwrap();
            let error = read(&path, u64::MAX).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(error.contains(&path.display().to_string()), "{error}");
        };
        check(&good[..good.len() - 1], "truncated");
        let mut flipped = good.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 1;
        check(&flipped, "checksum");
        check(b"{\"a\":1}", "not a signsim state file");
        let other = String::from_utf8(good.clone())
            .unwrap()
            .replacen(VERSION, "0.0.0-other", 1);
        check(other.as_bytes(), "written by signsim 0.0.0-other");
        check(&good[..20], "truncated");
        assert!(read(&dir.join("absent"), u64::MAX).unwrap().is_none());
        std::fs::remove_dir_all(&dir).ok();
    }
}

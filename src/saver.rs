//! `--state-file`: the state read at start ([`load`]) and saved every `--save-every`
//! seconds and at shutdown ([`Saver`]). The format and what each part saves are the
//! engine's (`engine::persist`, `engine::state`, `engine::sections`); this is when and
//! where.
//!
//! A save copies the state under short locks on the calling task, then encodes and writes
//! it in a blocking task, so requests wait at most for one store shard's copy. Saves never
//! overlap (one lock), so two never race on the temp file.

use crate::engine::state::file::{self, Loaded, StateError};
use crate::engine::Engine;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the state is kept and how often it is saved.
#[derive(Debug, Clone)]
pub struct StateFile {
    pub path: PathBuf,
    /// Between periodic saves; `None` saves only at shutdown.
    pub every: Option<Duration>,
}

/// Reads the state file, if there is one; an unreadable one is a start error naming it.
pub fn load(state: &StateFile, process_bytes: u64) -> Result<Option<Loaded>, StateError> {
    file::read(&state.path, file::limit_for(process_bytes))
}

pub struct Saver {
    engine: Arc<Engine>,
    path: PathBuf,
    writing: tokio::sync::Mutex<()>,
}

impl Saver {
    pub fn new(engine: Arc<Engine>, path: PathBuf) -> Arc<Saver> {
        Arc::new(Saver {
            engine,
            path,
            writing: tokio::sync::Mutex::new(()),
        })
    }

    /// Saves the whole state now; returns when it is on disk.
    pub async fn save(&self) -> Result<(), StateError> {
        let _writing = self.writing.lock().await;
        let started = std::time::Instant::now();
        let sections = self.engine.snapshot();
        let copied = started.elapsed();
        let path = self.path.clone();
        let written = tokio::task::spawn_blocking(move || {
            let bytes = file::encode(&sections)?;
            file::write_atomic(&path, &bytes)?;
            Ok::<usize, StateError>(bytes.len())
        })
        .await
        .map_err(|e| StateError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e.to_string()),
        })??;
        self.engine.saves.saved();
        tracing::debug!(
            "state saved to {} ({written} bytes; copied in {copied:?}, all in {:?})",
            self.path.display(),
            started.elapsed()
        );
        Ok(())
    }

    /// Saves every `every` until the process ends; a failed save is logged and retried at
    /// the next one.
    pub fn every(self: &Arc<Self>, every: Duration) {
        let saver = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is at once; the state was just read
            loop {
                ticks.tick().await;
                if let Err(e) = saver.save().await {
                    tracing::error!("{e}");
                }
            }
        });
    }
}

//! Reading a file given at start (scenario files, PEM files, the state file) with bounds:
//! it must be a regular file once symlinks are followed (a FIFO would block the start for
//! ever, `/dev/zero` would never end) and no larger than a limit (a 3 GB file is not read
//! whole into memory). The lowest layer: every other one may use it.

use std::io::Read;
use std::path::Path;

/// The most a PEM file (a certificate, a key, a CA bundle) or a scenario file may weigh:
/// the admin API's limit on a scenario upload, and far more than any PEM file needs.
pub const SMALL_FILE_LIMIT: u64 = 1024 * 1024;

/// The bytes of the regular file at `path` (symlinks followed), at most `limit` of them.
/// The errors are I/O errors (a missing file keeps its `NotFound`) whose text names the
/// limit; the caller names the path, as it did for any read error.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let not_regular = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a directory): pass a file",
        )
    };
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the {limit}-byte limit for this file"),
        )
    };
    // Checked before opening: opening a FIFO for reading waits for a writer.
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Non-blocking, so that a file swapped for a FIFO after the check cannot block the
    // open either; it changes nothing for a regular file.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    // What was opened, not what the path named a moment ago.
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// As [`read_bounded`], as UTF-8 text.
pub fn read_bounded_text(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_bounded(path, limit)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_under_the_limit_is_read_and_others_are_refused() {
        let dir = std::env::temp_dir().join(format!("signsim-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("small.pem");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_bounded(&file, 5).unwrap(), b"12345");
        let over = read_bounded(&file, 4).unwrap_err();
        assert!(over.to_string().contains("4-byte limit"), "{over}");
        // A directory, and a device that never ends.
        assert!(read_bounded(&dir, 1024).is_err());
        #[cfg(unix)]
        {
            let zero = read_bounded(Path::new("/dev/zero"), 1024).unwrap_err();
            assert!(zero.to_string().contains("not a regular file"), "{zero}");
            let link = dir.join("zero.pem");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
            assert!(read_bounded(&link, 1024).is_err());
        }
        let missing = read_bounded(&dir.join("absent"), 1024).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).ok();
    }
}

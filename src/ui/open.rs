//! The paths the simulator's links open ([`OpenPaths`]): the pages and downloads a
//! provider's links lead to, the calls those pages post to, its always-down receiver, and
//! the admin API's health and CA. They stay open under `--admin-token` (the link's
//! unguessable code is the credential), and their pages may be framed by another site (an
//! app embeds its signing step), where the admin pages may not.

/// Health checks, the public CA certificate, the sample PDF and the built-in webhook
/// receiver (a sender does not hold the token; reading captures back does need it): open
/// whatever the token.
pub const ALWAYS_OPEN: [&str; 4] = [
    "/_signsim/health",
    "/_signsim/ca.pem",
    "/_signsim/samples/document.pdf",
    "/_signsim/capture/{name}",
];

/// Open with any path below them (one or more further segments): the receiver's paths.
const OPEN_BELOW: [&str; 1] = ["/_signsim/capture/{name}"];

/// Open path patterns, `{name}` standing for any one non-empty segment.
#[derive(Debug, Clone, Default)]
pub struct OpenPaths {
    patterns: Vec<Vec<String>>,
    /// Patterns of [`OPEN_BELOW`], split.
    below: Vec<Vec<String>>,
}

impl OpenPaths {
    /// [`ALWAYS_OPEN`] and `registered` (full patterns, `/_signsim/<slug>/...`).
    pub fn new(registered: &[String]) -> OpenPaths {
        let patterns = ALWAYS_OPEN
            .iter()
            .copied()
            .chain(registered.iter().map(String::as_str))
            .map(|p| p.split('/').map(str::to_owned).collect())
            .collect();
        let below = OPEN_BELOW
            .iter()
            .map(|p| p.split('/').map(str::to_owned).collect())
            .collect();
        OpenPaths { patterns, below }
    }

    /// Whether `path` is one of them (compared segment by segment, without allocating).
    pub fn matches(&self, path: &str) -> bool {
        let count = path.split('/').count();
        let fits = |pattern: &Vec<String>| {
            pattern.iter().zip(path.split('/')).all(|(want, got)| {
                if want.starts_with('{') {
                    !got.is_empty()
                } else {
                    want == got
                }
            })
        };
        self.patterns
            .iter()
            .any(|pattern| pattern.len() == count && fits(pattern))
            || self
                .below
                .iter()
                .any(|pattern| pattern.len() < count && fits(pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::OpenPaths;

    #[test]
    fn patterns_match_one_segment_each() {
        let open = OpenPaths::new(&["/_signsim/qitech/s/{code}".to_owned()]);
        assert!(open.matches("/_signsim/qitech/s/abc"));
        assert!(open.matches("/_signsim/health"));
        assert!(!open.matches("/_signsim/qitech/s/"));
        assert!(!open.matches("/_signsim/qitech/s/abc/more"));
        assert!(!open.matches("/_signsim/outbox"));
        assert!(open.matches("/_signsim/capture/x"));
        assert!(open.matches("/_signsim/capture/x/deeper/still"));
        assert!(!open.matches("/_signsim/capture/"));
        assert!(!open.matches("/_signsim/captures/x"));
    }
}

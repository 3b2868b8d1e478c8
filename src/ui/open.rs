//! The paths the simulator's links open ([`OpenPaths`]): the pages and downloads a
//! provider's links lead to, the calls those pages post to, its always-down receiver, and
//! the admin API's health and CA. They stay open under `--admin-token` (the link's
//! unguessable code is the credential), and their pages may be framed by another site (an
//! app embeds its signing step), where the admin pages may not.

/// Health checks and the public CA certificate: open whatever the token.
pub const ALWAYS_OPEN: [&str; 2] = ["/_signsim/health", "/_signsim/ca.pem"];

/// Open path patterns, `{name}` standing for any one non-empty segment.
#[derive(Debug, Clone, Default)]
pub struct OpenPaths {
    patterns: Vec<Vec<String>>,
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
        OpenPaths { patterns }
    }

    /// Whether `path` is one of them (compared segment by segment, without allocating).
    pub fn matches(&self, path: &str) -> bool {
        let count = path.split('/').count();
        self.patterns.iter().any(|pattern| {
            pattern.len() == count
                && pattern.iter().zip(path.split('/')).all(|(want, got)| {
                    if want.starts_with('{') {
                        !got.is_empty()
                    } else {
                        want == got
                    }
                })
        })
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
    }
}

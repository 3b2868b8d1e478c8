//! The engine's logs (outbox, events, webhook attempts) keep at most `LOG_CAPACITY`
//! entries, so that a simulator left running for days does not grow without limit.

/// Most entries kept by each of the engine's logs.
pub const LOG_CAPACITY: usize = 100_000;

/// Appends to a log, dropping its oldest tenth once it holds `LOG_CAPACITY` entries (in one
/// sweep, so appending stays cheap on average). A ring (`VecDeque`): dropping the oldest
/// moves nothing else, where a `Vec` shifted the 90,000 kept entries under the log's lock.
pub fn push_bounded<T>(log: &mut std::collections::VecDeque<T>, entry: T) {
    if log.len() >= LOG_CAPACITY {
        log.drain(..LOG_CAPACITY / 10);
    }
    log.push_back(entry);
}

/// Most entries one page of a log holds (`?limit=`).
pub const MAX_PAGE: usize = 1_000;

/// Entries a page holds when `?before=` is given without `?limit=`.
pub const DEFAULT_PAGE: usize = 50;

/// One page of a log: at most `limit` entries older than `before` (a sequence number the
/// log gives each entry as it is appended), newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: usize,
    pub before: Option<u64>,
}

impl Paging {
    /// The first page of `limit` entries.
    pub fn newest(limit: usize) -> Paging {
        Paging {
            limit,
            before: None,
        }
    }
}

/// `?limit=&before=` as a query gives them (text, so that a wrong one gets its own
/// message rather than serde's).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct PageQuery {
    pub limit: Option<String>,
    pub before: Option<String>,
}

impl PageQuery {
    /// The page asked for; `None` without either parameter (the whole list, as before
    /// paging existed). `default` is the page size when only `before` is given.
    pub fn paging(&self, default: usize) -> Result<Option<Paging>, String> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (limit, before) = (given(&self.limit), given(&self.before));
        if limit.is_none() && before.is_none() {
            return Ok(None);
        }
        let limit = match limit {
            None => default,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    format!("'limit' must be a whole number from 1 to {MAX_PAGE}, not {text}")
                })?,
        };
        let before = match before {
            None => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                format!(
                    "'before' must be the cursor a previous page named in its \
                     {OLDER_HEADER} header (a whole number), not {text}"
                )
            })?),
        };
        Ok(Some(Paging { limit, before }))
    }
}

/// The answer header of a paged list naming the cursor of the next, older page (absent
/// on the last page): pass it back as `?before=`.
pub const OLDER_HEADER: &str = "x-signsim-older";

/// A page of a log, newest first, and the cursor of the page after it, if any.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub entries: Vec<T>,
    pub older: Option<u64>,
}

/// Walks `older_first` (a log's entries up to the page's `before`, in append order) from
/// its newest end, keeping the first `paging.limit` entries `keep` accepts: the cost is
/// the entries walked, never the whole log.
pub fn newest_first<'a, T: Clone + 'a>(
    older_first: impl DoubleEndedIterator<Item = &'a T>,
    limit: usize,
    seq: impl Fn(&T) -> u64,
    keep: impl Fn(&T) -> bool,
) -> Page<T> {
    let mut entries = Vec::new();
    let mut older = None;
    for entry in older_first.rev().filter(|e| keep(e)) {
        if entries.len() >= limit {
            older = entries.last().map(&seq);
            break;
        }
        entries.push(entry.clone());
    }
    Page { entries, older }
}

#[cfg(test)]
mod tests {
    use super::{newest_first, push_bounded, PageQuery, Paging, LOG_CAPACITY};

    #[test]
    fn pages_chain_through_a_log_newest_first() {
        let log: Vec<u64> = (1..=10).collect();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let end = before.map_or(log.len(), |b| log.partition_point(|e| *e < b));
            let page = newest_first(log[..end].iter(), 3, |e| *e, |e| e % 2 == 0 || *e > 0);
            seen.extend(page.entries);
            match page.older {
                Some(cursor) => before = Some(cursor),
                None => break,
            }
        }
        assert_eq!(seen, (1..=10).rev().collect::<Vec<u64>>());
    }

    #[test]
    fn a_page_query_is_bounded() {
        let query = |limit: &str, before: &str| PageQuery {
            limit: Some(limit.into()),
            before: Some(before.into()),
        };
        assert_eq!(PageQuery::default().paging(50), Ok(None));
        assert_eq!(
            query("", "7").paging(50),
            Ok(Some(Paging {
                limit: 50,
                before: Some(7)
            }))
        );
        assert!(query("0", "").paging(50).is_err());
        assert!(query("1001", "").paging(50).is_err());
        assert!(query("5", "-1").paging(50).is_err());
        assert_eq!(query("5", "").paging(50), Ok(Some(Paging::newest(5))));
    }

    #[test]
    fn logs_stay_bounded() {
        let mut log: std::collections::VecDeque<usize> = (0..LOG_CAPACITY).collect();
        push_bounded(&mut log, LOG_CAPACITY);
        assert_eq!(log.len(), LOG_CAPACITY - LOG_CAPACITY / 10 + 1);
        assert_eq!(log.front(), Some(&(LOG_CAPACITY / 10)));
        assert_eq!(log.back(), Some(&LOG_CAPACITY));
    }
}

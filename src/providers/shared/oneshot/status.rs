//! Statuses of a one-shot signature request and the one table of transitions between them.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Created,
    #[serde(rename = "ENROLLREADY")]
    EnrollReady,
    Issued,
    Renewed,
    Cancelled,
    #[serde(rename = "VIDEOPENDING")]
    VideoPending,
    #[serde(rename = "VIDEOREVIEW")]
    VideoReview,
    #[serde(rename = "VIDEOINCOMPLETE")]
    VideoIncomplete,
    #[serde(rename = "VIDEOERROR")]
    VideoError,
    Refused,
}

/// Every status name, as scenario files may write them.
pub const STATUS_NAMES: &[&str] = &[
    "CREATED",
    "ENROLLREADY",
    "ISSUED",
    "RENEWED",
    "CANCELLED",
    "VIDEOPENDING",
    "VIDEOREVIEW",
    "VIDEOINCOMPLETE",
    "VIDEOERROR",
    "REFUSED",
];

impl Status {
    pub fn parse(name: &str) -> Option<Status> {
        use Status::*;
        [
            Created,
            EnrollReady,
            Issued,
            Renewed,
            Cancelled,
            VideoPending,
            VideoReview,
            VideoIncomplete,
            VideoError,
            Refused,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "CREATED",
            Status::EnrollReady => "ENROLLREADY",
            Status::Issued => "ISSUED",
            Status::Renewed => "RENEWED",
            Status::Cancelled => "CANCELLED",
            Status::VideoPending => "VIDEOPENDING",
            Status::VideoReview => "VIDEOREVIEW",
            Status::VideoIncomplete => "VIDEOINCOMPLETE",
            Status::VideoError => "VIDEOERROR",
            Status::Refused => "REFUSED",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What can happen to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// A RAO approves the request (at creation with credentials, or later).
    Approve,
    /// An OTP is generated for the signer.
    GenerateOtp,
    /// The certificate is issued and the documents signed.
    Sign,
    /// The video identification ended with every evidence.
    VideoSucceeded,
    /// The video identification ended with part of the evidences.
    VideoPartial,
    /// The video identification failed.
    VideoFailed,
    /// A RAO validates a reviewed video (two-step mode).
    Validate,
    /// A RAO refuses the request.
    Refuse,
    /// The request's data is changed.
    Update,
}

use Event::*;
use Status::*;

/// Every allowed transition: (from, event, to). A call whose (status, event) pair is not
/// here is refused with the request's current status in the message.
pub const TRANSITIONS: &[(Status, Event, Status)] = &[
    (Created, Approve, EnrollReady),
    (EnrollReady, GenerateOtp, EnrollReady),
    (EnrollReady, Sign, Issued),
    // Video identification.
    (VideoPending, VideoSucceeded, VideoReview),
    (VideoIncomplete, VideoSucceeded, VideoReview),
    (VideoPending, VideoPartial, VideoIncomplete),
    (VideoIncomplete, VideoPartial, VideoIncomplete),
    (VideoPending, VideoFailed, VideoError),
    (VideoIncomplete, VideoFailed, VideoError),
    // Two-step mode validates, then approves; one-step mode approves a reviewed video.
    (VideoReview, Validate, Created),
    (VideoReview, Approve, EnrollReady),
    (Created, Refuse, Refused),
    (VideoPending, Refuse, Refused),
    (VideoReview, Refuse, Refused),
    (VideoIncomplete, Refuse, Refused),
    (VideoError, Refuse, Refused),
    // Data can change until the certificate is issued.
    (Created, Update, Created),
    (EnrollReady, Update, EnrollReady),
    (VideoPending, Update, VideoPending),
    (VideoReview, Update, VideoReview),
    (VideoIncomplete, Update, VideoIncomplete),
    (VideoError, Update, VideoError),
];

/// The status `event` leads to from `from`, if the table allows it.
pub fn next(from: Status, event: Event) -> Option<Status> {
    crate::engine::transitions::next(TRANSITIONS, from, event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_approved_request_can_be_signed() {
        assert_eq!(next(EnrollReady, Sign), Some(Issued));
        assert_eq!(next(Created, Sign), None);
        assert_eq!(next(Issued, Sign), None);
        assert_eq!(next(Issued, GenerateOtp), None);
    }
}

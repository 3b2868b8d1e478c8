//! Video identification: the request starts in VIDEOPENDING, the person goes through the
//! video (or the client uploads evidences), a RAO reviews, then validates, approves or
//! refuses.

use super::model::{transition, OneShotError, PersonPatch, SignatureRequest, VideoOutcome};
use super::status::{Event, Status};
use super::OneShot;
use crate::engine::tenant::Tenant;
use bytes::Bytes;

impl OneShot {
    /// Applies a request's video change under its lock, refusing non-video requests.
    fn update_video<R>(
        &self,
        tenant: &Tenant,
        pk: u64,
        f: impl FnOnce(&mut SignatureRequest) -> Result<R, OneShotError>,
    ) -> Result<R, OneShotError> {
        self.update(tenant, pk, |request| {
            if request.video.is_none() {
                return Err(OneShotError::NotVideo);
            }
            f(request)
        })
    }

    /// The person finished the video (or the client uploaded evidences): moves to
    /// VIDEOREVIEW, VIDEOINCOMPLETE or VIDEOERROR, taking any data read from the document.
    pub fn video_outcome(
        &self,
        tenant: &Tenant,
        pk: u64,
        outcome: VideoOutcome,
        read_from_document: PersonPatch,
    ) -> Result<Status, OneShotError> {
        let event = match outcome {
            VideoOutcome::Review => Event::VideoSucceeded,
            VideoOutcome::Incomplete => Event::VideoPartial,
            VideoOutcome::Error => Event::VideoFailed,
        };
        self.update_video(tenant, pk, |request| {
            transition(request.status, event)?;
            request.person.apply(read_from_document);
            self.apply(tenant, request, event)?;
            Ok(request.status)
        })
    }

    pub fn attach_recording(
        &self,
        tenant: &Tenant,
        pk: u64,
        video: Bytes,
    ) -> Result<(), OneShotError> {
        self.update_video(tenant, pk, |request| {
            if let Some(v) = request.video.as_mut() {
                v.recording = Some(video);
            }
            self.record(request, tenant, "video", "video recording uploaded".into());
            Ok(())
        })
    }

    /// Two-step mode: a reviewed video is validated (CREATED); a natural-person profile
    /// is then approved at once (ENROLLREADY), others wait for update and approval.
    pub fn validate_video(
        &self,
        tenant: &Tenant,
        pk: u64,
        rao: &str,
    ) -> Result<Status, OneShotError> {
        self.update_video(tenant, pk, |request| {
            self.apply(tenant, request, Event::Validate)?;
            if natural_person(&request.profile) && request.person.missing_fields().is_empty() {
                self.apply(tenant, request, Event::Approve)?;
                request.approved_by = Some(rao.to_owned());
            }
            Ok(request.status)
        })
    }

    pub fn refuse(&self, tenant: &Tenant, pk: u64, reason: &str) -> Result<(), OneShotError> {
        self.update(tenant, pk, |request| {
            transition(request.status, Event::Refuse)?;
            if let Some(video) = request.video.as_mut() {
                video.refusal_reason = Some(reason.to_owned());
            }
            self.record(request, tenant, "refused", format!("refused: {reason}"));
            self.apply(tenant, request, Event::Refuse)
        })
    }

    /// Changes the signer's data; the request's scratchcard must be given.
    pub fn update_request(
        &self,
        tenant: &Tenant,
        pk: u64,
        scratchcard: &str,
        patch: PersonPatch,
        registration_authority: Option<u64>,
        profile: Option<String>,
    ) -> Result<(), OneShotError> {
        self.update(tenant, pk, |request| {
            transition(request.status, Event::Update)?;
            if request.scratchcard != scratchcard.trim() {
                return Err(OneShotError::WrongScratchcard);
            }
            request.person.apply(patch);
            if let Some(ra) = registration_authority {
                request.registration_authority = ra;
            }
            if let Some(profile) = profile {
                request.profile = profile;
            }
            self.record(request, tenant, "updated", "request data updated".into());
            Ok(())
        })
    }
}

/// Profiles for natural persons (Spanish "persona física": `PF...`).
fn natural_person(profile: &str) -> bool {
    profile.starts_with("PF")
}

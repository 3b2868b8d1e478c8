//! The signature: the OTP authorizes it, then the certificate is issued and every
//! document and the contract signed, at once (`sign_now`) or (`useasync`) later on the
//! tenant's virtual clock (`sign_later`). The certificate's validity and every signing
//! time are the tenant's now.

use super::model::{
    transition, AsyncSigning, DocumentKind, IssuedCertificate, OneShotError, Person, SignOptions,
    SignatureRequest,
};
use super::status::Event;
use super::{appearance, otp, OneShot, SIGN_TIMER};
use crate::engine::documents;
use crate::engine::tenant::Tenant;
use crate::engine::timers::read_payload;
use crate::pki::SignerIdentity;
use bytes::Bytes;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// What `sign_later` signs: the request as it was authorized (its documents then), and how.
#[derive(serde::Serialize, serde::Deserialize)]
struct SignLater {
    request: SignatureRequest,
    options: SignOptions,
}

impl OneShot {
    /// Completes an authorized asynchronous signature `delay` from now on the tenant's
    /// clock.
    pub fn sign_later(
        self: &Arc<Self>,
        tenant: &Tenant,
        authorized: SignatureRequest,
        options: SignOptions,
        delay: Duration,
    ) {
        let later = SignLater {
            request: authorized,
            options,
        };
        self.engine
            .timers
            .at_json(self.engine.after(tenant, delay), tenant, SIGN_TIMER, &later);
    }

    /// Completes an authorized signature now, on a blocking thread: issuing a certificate
    /// and signing every document is CPU work, kept off the runtime's workers.
    pub async fn sign_now(
        self: &Arc<Self>,
        tenant: &Tenant,
        authorized: SignatureRequest,
        options: SignOptions,
    ) -> Result<(), OneShotError> {
        let oneshot = self.clone();
        let tenant = tenant.clone();
        tokio::task::spawn_blocking(move || {
            oneshot.complete_signature(&tenant, &authorized, &options)
        })
        .await
        .unwrap_or(Err(OneShotError::SigningAborted))
    }

    /// What the `SIGN_TIMER` does when due: completes the signature `sign_later` set.
    pub(super) fn signature_due(&self, tenant: &Tenant, payload: &str) {
        if let Some(later) = read_payload::<SignLater>(SIGN_TIMER, payload) {
            self.complete_signature(tenant, &later.request, &later.options)
                .ok();
        }
    }

    /// Checks the OTP for a signature and spends it; returns the request to sign. Under the
    /// lock, so two concurrent calls cannot both sign. An asynchronous signature is marked
    /// in progress.
    pub fn authorize_signature(
        &self,
        tenant: &Tenant,
        pk: u64,
        secret: &str,
    ) -> Result<SignatureRequest, OneShotError> {
        let now = self.engine.now(tenant);
        self.update(tenant, pk, |request| {
            transition(request.status, Event::Sign)?;
            if request.async_signing == Some(AsyncSigning::InProgress) {
                return Err(OneShotError::WrongStatus {
                    status: request.status,
                    event: Event::Sign,
                });
            }
            otp::consume(request.otp.as_mut(), secret, now)
                .map_err(|_| OneShotError::OtpInvalid)?;
            if request.useasync {
                request.async_signing = Some(AsyncSigning::InProgress);
            }
            Ok(request.clone())
        })
    }

    /// Issues the certificate and signs what `authorize_signature` returned, at the
    /// tenant's now (the certificate's validity start, every signing time).
    pub fn complete_signature(
        &self,
        tenant: &Tenant,
        request: &SignatureRequest,
        options: &SignOptions,
    ) -> Result<(), OneShotError> {
        let pk = request.pk;
        let now = self.engine.now(tenant);
        let signed = match self.sign_all(request, options, now) {
            Ok(signed) => signed,
            Err(error) => {
                self.update(tenant, pk, |stored| {
                    if stored.useasync {
                        stored.async_signing = Some(AsyncSigning::Failed(format!("{error:?}")));
                    }
                    // Nothing was signed: the code stays usable, so the signer can retry once
                    // the faulty document is replaced.
                    if let Some(otp) = stored.otp.as_mut() {
                        otp.spent = false;
                    }
                    Ok(())
                })?;
                return Err(error);
            }
        };
        self.update(tenant, pk, |stored| {
            let (certificate, contract, documents) = signed;
            for (uid, bytes) in documents {
                if let Some(document) = stored.documents.iter_mut().find(|d| d.uid == uid) {
                    document.original = prefix_of(&bytes, &document.original);
                    document.signed = Some(bytes);
                }
            }
            let text = format!(
                "signed {} document(s) and the contract with certificate {}",
                stored
                    .documents
                    .iter()
                    .filter(|d| d.signed.is_some())
                    .count(),
                certificate.serial_hex
            );
            stored.contract = prefix_of(&contract, &stored.contract);
            stored.signed_contract = Some(contract);
            stored.certificate = Some(certificate);
            if stored.useasync {
                stored.async_signing = Some(AsyncSigning::Done);
            }
            self.record(stored, tenant, "signed", text);
            self.apply(tenant, stored, Event::Sign)
        })
    }

    #[allow(clippy::type_complexity)]
    fn sign_all(
        &self,
        request: &SignatureRequest,
        options: &SignOptions,
        now: OffsetDateTime,
    ) -> Result<(IssuedCertificate, Bytes, Vec<(String, Bytes)>), OneShotError> {
        let pki = &self.engine.pki;
        let signing_error = |uid: &str| {
            let uid = uid.to_owned();
            move |e: crate::pki::PkiError| OneShotError::Signing {
                uid,
                reason: e.to_string(),
            }
        };
        let cert = pki
            .issue_signer(&signer_identity(&request.person), now)
            .map_err(signing_error("certificate"))?;
        let mut documents = Vec::with_capacity(request.documents.len());
        let email = &request.person.email;
        for document in &request.documents {
            let shown = options
                .visible
                .iter()
                .find(|(uid, _)| *uid == document.uid)
                .map(|(_, visible)| {
                    appearance::appearance(visible, options.text.as_ref(), &cert, email, now)
                });
            let signed = match &document.kind {
                DocumentKind::Pdf => pki.sign_pdf_with(
                    &document.original,
                    &cert,
                    now,
                    shown.as_ref(),
                    &options.attributes,
                ),
                DocumentKind::Hash {
                    digest,
                    signing_time,
                } => pki.sign_digest(digest, &cert, now, *signing_time),
            }
            .map_err(signing_error(&document.uid))?;
            documents.push((document.uid.clone(), documents::keep_vec(signed)));
        }
        let contract = pki
            .sign_pdf_with(&request.contract, &cert, now, None, &options.attributes)
            .map_err(signing_error("contract"))?;
        Ok((
            IssuedCertificate::from(&cert),
            documents::keep_vec(contract),
            documents,
        ))
    }
}

fn signer_identity(person: &Person) -> SignerIdentity {
    SignerIdentity {
        given_name: person.given_name.clone(),
        surname_1: person.surname_1.clone(),
        surname_2: person.surname_2.clone(),
        serial_number: person.subject_serial_number(),
        country: person.id_document_country.clone(),
        email: Some(person.email.clone()).filter(|e| !e.is_empty()),
    }
}

/// `original` as a view into `signed` when `signed` begins with it, as a PDF signature
/// (an incremental update) always does: the two then share one buffer and the original's
/// own is freed, so a signed document costs its signature, not a second copy of itself.
/// Otherwise (a detached `.p7m`) `original` as it is.
fn prefix_of(signed: &Bytes, original: &Bytes) -> Bytes {
    if signed.starts_with(&original[..]) {
        signed.slice(..original.len())
    } else {
        original.clone()
    }
}

//! The signer's act and what follows it: the facial challenge, one PAdES signature per
//! document with a certificate of the signer's own, completion and the `urlCallback`.

use crate::engine::acts::StatusChange;
use crate::engine::documents;
use crate::engine::outbox::Channel;
use crate::engine::tenant::Tenant;
use crate::pki::{Appearance, SignerIdentity};
use crate::providers::identiasign::model::{
    Act, Event, Facial, ModelError, Nat, Process, Signer, Status,
};
use crate::providers::identiasign::wire::{self, callback};
use crate::providers::identiasign::{IdentiaSign, SLUG};
use rand::Rng;
use time::OffsetDateTime;

impl IdentiaSign {
    /// The signer passes the facial challenge and signs every document they have a stamp
    /// in, with a certificate of their own; the last one completes the process.
    pub fn sign(
        &self,
        tenant: &Tenant,
        id: &str,
        key: &str,
        facial_passes: bool,
    ) -> Result<(Signer, bool), ModelError> {
        let now = self.engine.now(tenant);
        let facial = Facial {
            result: facial_passes,
            id: self.facial_id(),
            at: now,
        };
        // 1. Under the process's lock: may this signer act now?
        let checked = self.update(tenant, id, |process| {
            process.may_sign(key)?;
            if !facial_passes {
                process.signer_mut(key)?.facial = Some(facial.clone());
                return Err(ModelError::FacialFailed);
            }
            let position = process
                .signers
                .iter()
                .position(|s| s.key() == key)
                .unwrap_or(0);
            Ok((
                process.signer(key)?.clone(),
                position,
                process.documents.clone(),
            ))
        });
        let (signer, position, before) = match checked {
            Err(ModelError::FacialFailed) => {
                let text = format!("signer {key} failed the facial challenge");
                self.engine.record(tenant, id, "facial", text);
                return Err(ModelError::FacialFailed);
            }
            other => other?,
        };
        // 2. Outside it (certificates and signatures take a while): sign copies.
        let pdf_error = |e: crate::pki::PkiError| ModelError::Pdf(wire::pdf_problem(&e));
        let cert = self
            .engine
            .pki
            .issue_signer(&identity(&signer), now)
            .map_err(pdf_error)?;
        let mut documents = before.clone();
        for index in signer.files(documents.len()) {
            let Some(document) = documents.get_mut(index) else {
                continue;
            };
            let appearance = stamp(&signer, position, document.pages, now);
            let signed = self
                .engine
                .pki
                .sign_pdf(&document.bytes, &cert, now, Some(&appearance))
                .map_err(pdf_error)?;
            document.bytes = documents::keep_vec(signed);
        }
        // 3. Under the lock again: commit, unless someone signed meanwhile.
        let result = self.update(tenant, id, |process| {
            process.may_sign(key)?;
            let unchanged = process.documents.len() == before.len()
                && process
                    .documents
                    .iter()
                    .zip(&before)
                    .all(|(now, then)| now.bytes == then.bytes);
            if !unchanged {
                return Err(ModelError::Concurrent);
            }
            process.apply(Event::Sign)?;
            process.documents = documents;
            let signer = process.signer_mut(key)?;
            signer.facial = Some(facial.clone());
            signer.act = Some((Act::Sign, now));
            let signer = signer.clone();
            Ok((signer, process.all_signed()))
        });
        let (signer, all_signed) = result?;
        self.engine
            .record(tenant, id, "signature", format!("signer {key} signed"));
        if all_signed {
            self.complete(tenant, id)?;
        }
        Ok((signer, all_signed))
    }

    /// Everyone has signed: the process is `signed` and the callback goes out.
    pub(super) fn complete(&self, tenant: &Tenant, id: &str) -> Result<(), ModelError> {
        let process = self.update(tenant, id, |process| {
            process.apply(Event::Complete)?;
            Ok(process.clone())
        })?;
        let change = StatusChange::moved(Status::Pending.as_str(), Status::Signed.as_str());
        self.engine
            .record_status(tenant, id, change, "pending → signed");
        self.callback(tenant, &process);
        Ok(())
    }

    /// POSTs the documented payload to `urlCallback`, if the process has one, through the
    /// webhook dispatcher (retries, delivery log).
    pub(super) fn callback(&self, tenant: &Tenant, process: &Process) {
        let Some(url) = &process.url_callback else {
            self.engine.record(
                tenant,
                &process.id,
                "callback",
                "no urlCallback: nothing sent",
            );
            return;
        };
        let applied = self.engine.scenarios.on(tenant, &process.id, "callback");
        let url = if applied.deliver {
            url.clone()
        } else {
            self.engine.link(&format!("/_signsim/{SLUG}/receiver-down"))
        };
        let documents: Vec<(String, Option<String>)> = (0..process.documents.len())
            .map(|index| {
                let url = self.file_url(tenant, process, index);
                (
                    process
                        .documents
                        .get(index)
                        .map(|d| d.id.clone())
                        .unwrap_or_default(),
                    url,
                )
            })
            .collect();
        let body = callback::body(process, &documents);
        self.engine.webhook(
            crate::engine::webhooks::WebhookRequest {
                provider: SLUG,
                tenant: tenant.name.clone(),
                resource: process.id.clone(),
                url,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_string().into(),
            },
            time::Duration::ZERO,
        );
    }
}

/// Who a signer's certificate is issued to: their alias as the name, their ID as the
/// subject serialNumber (ETSI EN 319 412-1 semantics).
/// The lengths of the three dotted parts of a facial evidence id, as the docs' callback
/// example shows it: `"aaaaaaa.bbbbb.ccccc"`.
const FACIAL_ID_PARTS: [usize; 3] = [7, 5, 5];

impl IdentiaSign {
    /// A facial evidence id in the example's shape: three dotted parts of lower-case
    /// letters, drawn from the engine's generator (so that `--seed` repeats it).
    fn facial_id(&self) -> String {
        self.engine.ids.with_rng(|rng| {
            FACIAL_ID_PARTS
                .iter()
                .map(|&len| {
                    (0..len)
                        .map(|_| char::from(rng.random_range(b'a'..=b'z')))
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join(".")
        })
    }
}

fn identity(signer: &Signer) -> SignerIdentity {
    let (kind, country) = match signer.nat {
        Nat::Per | Nat::PerCe => ("IDC", "PE"),
        Nat::PerPass => ("PAS", "PE"),
        Nat::Chl => ("IDC", "CL"),
    };
    let name = signer.alias.clone().unwrap_or_else(|| "Firmante".into());
    let mut words = name.split_whitespace();
    let given_name = words.next().unwrap_or("Firmante").to_owned();
    let rest: Vec<&str> = words.collect();
    SignerIdentity {
        given_name,
        surname_1: if rest.is_empty() {
            signer.doc_id.clone()
        } else {
            rest.join(" ")
        },
        surname_2: None,
        serial_number: format!("{kind}{country}-{}", signer.doc_id),
        country: country.into(),
        email: signer
            .contact
            .as_ref()
            .filter(|c| c.channel == Channel::Email)
            .map(|c| c.value.clone()),
    }
}

/// The signer's stamp on the blank signature page (the last one): one band per signer,
/// top to bottom, in the signer's time zone.
fn stamp(signer: &Signer, position: usize, pages: usize, now: OffsetDateTime) -> Appearance {
    // Eight bands fit on an A4 page; further signers share them again.
    let band = (position % 8) as f64;
    let top = 760.0 - band * 90.0;
    let offset = crate::engine::timefmt::offset_at(
        signer.contact.as_ref().map_or("-05:00", |c| c.tz.as_str()),
        now,
    )
    .unwrap_or(time::UtcOffset::UTC);
    let local = now.to_offset(offset);
    let when = crate::engine::timefmt::strftime(local, "%d/%m/%Y %H:%M:%S %z", "");
    let mut lines = vec![format!("Firmado digitalmente por {}", signer.key())];
    if let Some(alias) = &signer.alias {
        lines.push(alias.clone());
    }
    lines.push(format!("Fecha: {when}"));
    Appearance {
        page: u32::try_from(pages.saturating_sub(1)).unwrap_or(0),
        rect: [50.0, top - 70.0, 545.0, top],
        lines,
        png: None,
    }
}

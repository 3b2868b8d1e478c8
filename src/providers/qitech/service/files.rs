//! The file URLs the API hands out and the resource page links: dossiers, identification
//! images, the signer's face (`face.jpg`) and the documents as added, each behind a token
//! valid for 24 hours of its tenant's clock.

use crate::engine::seconds;
use crate::engine::tenant::Tenant;
use crate::providers::qitech::{QiTech, SLUG};
use bytes::Bytes;
use time::OffsetDateTime;

/// How long a dossier (or image) URL stays valid, as the manual says.
pub const URL_LIFETIME_SECONDS: u64 = 24 * 60 * 60;

/// What a file URL serves.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum FileKind {
    /// A document as it was added (the resource page's link; the API has none).
    Original(String),
    Dossier(String),
    Front(String),
    Back(String),
    Face(String),
}

/// What a file URL serves (its tenant is the one that owns the link).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileLink {
    pub envelope: String,
    pub kind: FileKind,
    pub expires_at: OffsetDateTime,
}

impl QiTech {
    /// A URL for a file of an envelope, valid for 24 hours of the tenant's clock.
    pub fn file_url(&self, tenant: &Tenant, envelope: &str, kind: FileKind, ext: &str) -> String {
        let token = self.engine.secrets.uuid();
        self.grant_file(tenant, envelope, kind, ext, token)
    }

    /// Keeps `token` as a link to a file of `envelope` for 24 hours of the tenant's clock;
    /// its URL.
    fn grant_file(
        &self,
        tenant: &Tenant,
        envelope: &str,
        kind: FileKind,
        ext: &str,
        token: String,
    ) -> String {
        let link = FileLink {
            envelope: envelope.to_owned(),
            kind,
            expires_at: self.engine.after(tenant, seconds(URL_LIFETIME_SECONDS)),
        };
        let url = self.engine.link(&format!(
            "/_signsim/{SLUG}/files/{}.{ext}",
            crate::ui::path_segment(&token)
        ));
        self.files.insert_as(tenant, token, link);
        url
    }

    /// A URL for a file of an envelope, as the resource page shows it: like `file_url`, but
    /// its token is derived from the tenant, envelope and file under the engine's secret
    /// key instead of drawn, so looking at a page does not change the ids a seeded run
    /// hands out next. Opening the page again renews the same URL.
    pub fn page_file_url(
        &self,
        tenant: &Tenant,
        envelope: &str,
        kind: FileKind,
        ext: &str,
    ) -> String {
        let token = self.engine.secret_token(
            "qitech page file",
            &[&tenant.name, envelope, &format!("{kind:?}")],
        );
        self.grant_file(tenant, envelope, kind, ext, token)
    }

    /// The tenant and file a file URL's token leads to.
    pub fn file_link(&self, token: &str) -> Option<(Tenant, FileLink)> {
        self.files.get(token)
    }

    /// The bytes and content type a file link serves, if they still exist.
    pub fn file(&self, tenant: &Tenant, link: &FileLink) -> Option<(Bytes, String)> {
        let envelope = self.get(tenant, &link.envelope).ok()?;
        match &link.kind {
            FileKind::Original(document) => envelope
                .documents
                .iter()
                .find(|d| &d.id == document)
                .map(|d| (d.bytes.clone(), "application/pdf".to_owned())),
            FileKind::Dossier(document) => envelope
                .dossiers
                .iter()
                .find(|d| &d.document_id == document)
                .map(|d| (d.bytes.clone(), "application/pdf".to_owned())),
            FileKind::Front(signer) | FileKind::Back(signer) => {
                let front = matches!(link.kind, FileKind::Front(_));
                let signer = envelope.signer(signer).ok()?;
                signer
                    .personal_documents
                    .iter()
                    .find(|d| d.template.is_front() == front)
                    .map(|d| (d.bytes.clone(), content_type(&d.file_type).to_owned()))
            }
            FileKind::Face(signer) => envelope
                .signer(signer)
                .ok()
                .filter(|s| s.signed_at.is_some())
                .map(|_| (Bytes::from_static(FACE_JPEG), "image/jpeg".to_owned())),
        }
    }
}

/// The face "captured" at signing: a tiny grey JPEG.
pub const FACE_JPEG: &[u8] = include_bytes!("face.jpg");

pub fn content_type(file_type: &str) -> &'static str {
    match file_type {
        "png" => "image/png",
        "pdf" => "application/pdf",
        _ => "image/jpeg",
    }
}

impl crate::engine::quota::Stored for FileLink {}

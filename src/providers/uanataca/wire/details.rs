//! The `details` object of GET /request/{pk}, field for field as the docs show it.

use crate::providers::shared::oneshot::certificate_json::{certificate_json, CertificateForm};
use crate::providers::shared::oneshot::{IssuedCertificate, SignatureRequest, Status};
use crate::providers::uanataca::service::Uanataca;
use serde_json::{json, Value};

fn certificate(cert: &IssuedCertificate, profile: &str) -> Value {
    certificate_json(cert, profile, CertificateForm::Optimizer)
}

impl Uanataca {
    pub(crate) fn request_details(&self, request: &SignatureRequest) -> Value {
        let person = &request.person;
        let ra = request.registration_authority;
        // Only an approved request has an approving officer.
        let approved = request.approved_by.is_some()
            && !matches!(request.status, Status::Created | Status::Refused);
        let user = json!({
            "pk": 232,
            "request": request.pk,
            "permission_profile": 1,
            "registration_authority": ra,
        });
        let approving_rao = request.approved_by.as_ref().map(|username| {
            json!({
                "is_identificator": false,
                "id_document_description": "",
                "certificate": certificate(&self.rao_certificate, "PFnubeAF"),
                "registration_authority": [],
                "registration_authority_master": ra,
                "id_document_number": username,
                "given_name": "OneShot",
                "surname_2": "",
                "pk": 972,
                "surname_1": "Operator",
                "id_document_issuer": "",
            })
        });
        let certificate_set: Vec<Value> = request
            .certificate
            .iter()
            .map(|cert| certificate(cert, &request.profile))
            .collect();
        json!({
            "paperless_mode": true,
            // Text with its `+`, as the real details (Signal's guide) and every request in
            // the docs write it: the vendor's YAML example is unquoted, which reads as a number.
            "mobile_phone_number": person.mobile_phone_number,
            "country_name": person.id_document_country,
            "approving_user": if approved { user.clone() } else { Value::Null },
            "secure_element": 2,
            "communication_language": request.communication_language,
            "profile": request.profile,
            "registering_user": user,
            "approving_rao": approving_rao,
            "email": person.email,
            "surname_2": person.surname_2.clone().unwrap_or_default(),
            "surname_1": person.surname_1,
            "validity_time": "1",
            "videoid_mode": request.video.is_some(),
            "serial_number": person.serial_number,
            "scratchcard": request.scratchcard,
            "registration_authority": ra,
            "id_document_type": person.id_document_type,
            "pk": request.pk,
            "given_name": person.given_name,
            "status": request.status.as_str(),
            "certificate_set": certificate_set,
            "id_document_country": person.id_document_country,
        })
    }
}

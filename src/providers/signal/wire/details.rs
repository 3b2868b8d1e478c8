//! The request details Signal shows (`requestDetails` and `GET /sign/:pk`): Uanataca's
//! object, field for field and in the docs' order, with Signal's RAO.

use crate::engine::tenant::Tenant;
use crate::providers::shared::oneshot::certificate_json::{certificate_json, CertificateForm};
use crate::providers::shared::oneshot::{IssuedCertificate, SignatureRequest, Status};
use crate::providers::signal::service::{Signal, RAO_DOCUMENT, RAO_GIVEN_NAME, RAO_SURNAME};
use serde_json::{json, Map, Value};

/// Signal's registration authority for requests, and the one its RAO belongs to.
pub(crate) const REGISTRATION_AUTHORITY: u64 = 35;
const RAO_AUTHORITY: u64 = 33;

fn certificate(cert: &IssuedCertificate, profile: &str) -> Value {
    certificate_json(cert, profile, CertificateForm::Signal)
}

/// The RAO certificate's issuer and subject as the docs' `GET /sign/:pk` shows them.
const RAO_ISSUER: &str = "C=ES, L=Barcelona (see current address at www.uanataca.com/address), O=UANATACA S.A., OU=TSP-UANATACA, CN=UANATACA CA1 2016 STAGING, 2.5.4.97=VATES-A66721499";
const RAO_SUBJECT: &str = "CN=RAO Ecuador One-Shot SandBox, 2.5.4.5=IDCEC-99999999R, 2.5.4.42=RAO Ecuador One-Shot, 2.5.4.4=SandBox, OU=BES DPR:https://www.uanataca.com/, C=ES";

/// Which answer the details are for: the docs show the RAO certificate's `issuer` and
/// `subject` empty in the create answer and filled in `GET /sign/:pk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    Created,
    Retrieved,
}

impl Signal {
    pub(crate) fn request_details(
        &self,
        tenant: &Tenant,
        request: &SignatureRequest,
        shown: Shown,
    ) -> Value {
        let person = &request.person;
        let residence = self.residences.get(tenant, &request.pk).unwrap_or_default();
        // The same officer is shown as registering and approving user, as in the docs.
        let user = json!({
            "pk": 49,
            "request": 2425,
            "permission_profile": 943,
            "registration_authority": RAO_AUTHORITY,
        });
        let approved = !matches!(request.status, Status::Created | Status::Refused);
        let mut rao_certificate = certificate(&self.rao_certificate, "PFnubeNC");
        let (issuer, subject) = match shown {
            Shown::Created => ("", ""),
            Shown::Retrieved => (RAO_ISSUER, RAO_SUBJECT),
        };
        rao_certificate["issuer"] = json!(issuer);
        rao_certificate["subject"] = json!(subject);
        let approving_rao = json!({
            "is_identificator": false,
            "id_document_description": "",
            "certificate": rao_certificate,
            "registration_authority": [],
            "registration_authority_master": RAO_AUTHORITY,
            "id_document_number": RAO_DOCUMENT,
            "given_name": RAO_GIVEN_NAME,
            "surname_2": "",
            "pk": 36,
            "surname_1": RAO_SURNAME,
            "id_document_issuer": "",
        });
        let certificate_set: Vec<Value> = request
            .certificate
            .iter()
            .map(|cert| certificate(cert, &request.profile))
            .collect();
        let fields: Vec<(&str, Value)> = vec![
            ("citizen_tax_number", json!(null)),
            ("paperless_mode", json!(true)),
            ("organization_rol", json!(null)),
            ("birth_country", json!(null)),
            ("birth_city", json!(null)),
            ("external_profile", json!(null)),
            ("mobile_phone_number", json!(person.mobile_phone_number)),
            ("residence_state", json!(null)),
            ("title", json!(null)),
            ("ext_recognition_data", json!(null)),
            ("process_application", json!(null)),
            ("country_name", json!(person.id_document_country)),
            (
                "approving_user",
                json!(if approved { user.clone() } else { Value::Null }),
            ),
            ("birth_province", json!(null)),
            ("birth_state", json!(null)),
            ("residence_postal_code", json!(null)),
            ("id_document_number", json!(null)),
            ("smartcard_sn", json!(null)),
            ("secure_element", json!(2)),
            ("organization_state", json!(null)),
            (
                "communication_language",
                json!(request.communication_language),
            ),
            ("id_document_expiry", json!(null)),
            ("responsible_legal_documents", json!(null)),
            ("id_document_issuer", json!(null)),
            ("profile", json!(request.profile)),
            ("organization_address", json!(null)),
            ("provider_registration_number", json!(null)),
            ("sex", json!(null)),
            ("registering_user", json!(user)),
            ("enrollment_success_url", json!(null)),
            ("description", json!(null)),
            ("organization_tax_number", json!(null)),
            ("administrative_unit", json!(null)),
            ("organization_name", json!(null)),
            (
                "approving_rao",
                json!(if approved { approving_rao } else { Value::Null }),
            ),
            ("responsible_citizenship", json!(null)),
            ("organization_country", json!(null)),
            ("email", json!(person.email)),
            ("producing_user", json!(null)),
            ("responsible_second_surname", json!(null)),
            ("responsible_name", json!(null)),
            ("professional_id_number", json!(null)),
            ("residence_address", json!(null)),
            ("responsible_legal_level", json!(null)),
            ("residence_district", json!(null)),
            ("entity_owner_serial_number", json!(null)),
            ("configuration_data", json!({})),
            ("id_responsible_document_type", json!(null)),
            ("residence_city", json!(null)),
            ("subscriber_responsible_serial", json!(null)),
            ("organization_city", json!(null)),
            (
                "surname_2",
                json!(person.surname_2.clone().unwrap_or_default()),
            ),
            ("surname_1", json!(person.surname_1)),
            ("identification_rao", json!(null)),
            ("fix_phone_number", json!(null)),
            ("id_responsible_document_number", json!(null)),
            ("validity_time", json!("1")),
            ("registration", json!(null)),
            ("organization_province", json!(null)),
            ("organization_identifier", json!(null)),
            ("videoid_mode", json!(false)),
            ("subscriber", json!(null)),
            ("birth_canton", json!(null)),
            ("special_conditions", json!(null)),
            ("serial_number", json!(person.serial_number)),
            ("scratchcard", json!(request.scratchcard)),
            (
                "registration_authority",
                json!(request.registration_authority),
            ),
            ("responsible_serial", json!(null)),
            ("id_document_type", json!(person.id_document_type)),
            ("empowerment", json!(null)),
            ("responsible_registry_data", json!(null)),
            ("id_responsible_document_country", json!(null)),
            ("entity_owner", json!(null)),
            ("pk", json!(request.pk)),
            ("circumstances", json!(null)),
            ("responsible_position", json!(null)),
            ("producing_rao", json!(null)),
            ("organization_email", json!(null)),
            ("limit", json!(null)),
            ("residence", json!(residence.country)),
            ("residence_canton", json!(null)),
            ("citizenship", json!(null)),
            ("videoid_data", json!(null)),
            ("organizational_unit_3", json!(null)),
            ("organizational_unit_2", json!(null)),
            ("organizational_unit_1", json!(null)),
            ("organization_postal_code", json!(null)),
            ("responsible_email", json!(null)),
            ("given_name", json!(person.given_name)),
            ("id_responsible_document_issuer", json!(null)),
            ("organization_url", json!(null)),
            ("status", json!(request.status.as_str())),
            ("id_document_description", json!(null)),
            ("certificate_set", json!(certificate_set)),
            ("residence_province", json!(null)),
            ("responsible_first_surname", json!(null)),
            ("id_document_country", json!(person.id_document_country)),
            ("id_document_release", json!(null)),
            ("complement_number", json!(null)),
            ("birth_district", json!(null)),
            ("birth_date", json!(person.birth_date)),
            ("representation", json!(null)),
        ];
        Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect::<Map<String, Value>>(),
        )
    }
}

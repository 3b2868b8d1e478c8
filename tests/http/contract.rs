//! Holds an answer to an OpenAPI document: `Contract` finds the operation a call made, checks
//! that the document lists the answer's status and content type and that the body fits the
//! schema, and remembers which operations were called (and with which statuses) so a test
//! can insist on all of them, and on every status the document lists being one the
//! simulator really answers.
//!
//! The schema check is a small JSON Schema subset written here rather than a crate: the
//! documents use only `$ref`, `type` (one or a list), `const`, `enum`, `required`,
//! `properties`, `additionalProperties`, `items`, `minItems`/`maxItems` and
//! `oneOf`/`anyOf`/`allOf`, and `documents_use_only_what_the_validator_knows` keeps it so.

use crate::common::Answer;
use serde_json::Value;
use std::collections::BTreeSet;

/// The schema keywords `validate` understands, and the annotations it may ignore.
const KNOWN_KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "oneOf",
    "anyOf",
    "allOf",
    // Annotations: they describe, they do not constrain what the server answers.
    "description",
    "title",
    "format",
    "example",
    "examples",
    "default",
    "contentEncoding",
    "contentMediaType",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "deprecated",
    "readOnly",
    "writeOnly",
    "xml",
];

pub struct Contract {
    pub name: &'static str,
    doc: Value,
    /// Where the document says its paths are served (`servers[0].url`).
    prefix: String,
    called: BTreeSet<(String, String)>,
    /// Every `(METHOD, template, status)` answered.
    answered: BTreeSet<(String, String, String)>,
}

impl Contract {
    pub fn new(name: &'static str, text: &str) -> Contract {
        let doc: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("openapi/{name}.json is not JSON: {e}"));
        assert_eq!(doc["openapi"], "3.1.0", "{name}: an OpenAPI 3.1 document");
        let prefix = doc["servers"][0]["url"]
            .as_str()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_owned();
        Contract {
            name,
            doc,
            prefix,
            called: BTreeSet::new(),
            answered: BTreeSet::new(),
        }
    }

    /// Every documented operation, as `(METHOD, path template)`.
    pub fn operations(&self) -> BTreeSet<(String, String)> {
        let mut operations = BTreeSet::new();
        for (template, item) in self.doc["paths"].as_object().into_iter().flatten() {
            for method in ["get", "put", "post", "delete", "patch"] {
                if item.get(method).is_some() {
                    operations.insert((method.to_uppercase(), template.clone()));
                }
            }
        }
        operations
    }

    /// The template of the operation a call to `path` (as sent, from the server's root,
    /// without the query) made: the one whose literal segments match, fewer parameters
    /// first, so `/api/v1/document/1/contract` is the contract call and not a document.
    fn template_of(&self, method: &str, path: &str) -> Option<String> {
        let path = path.strip_prefix(&self.prefix)?;
        let segments: Vec<&str> = path.split('/').collect();
        self.operations()
            .into_iter()
            .filter(|(m, _)| m == method)
            .filter_map(|(_, template)| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut parameters = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') {
                        parameters += 1;
                    } else if part != segment {
                        return None;
                    }
                }
                Some((parameters, template))
            })
            .min()
            .map(|(_, template)| template)
    }

    /// Checks the answer to `METHOD path` against the document and notes the operation as
    /// called; panics saying what does not hold.
    pub fn check(&mut self, method: &str, path: &str, answer: &Answer) {
        let path = path.split('?').next().unwrap_or(path);
        let template = self.template_of(method, path).unwrap_or_else(|| {
            panic!(
                "{}: {method} {path} is not a documented operation",
                self.name
            )
        });
        let operation = &self.doc["paths"][&template][method.to_lowercase()];
        let status = answer.status.to_string();
        let response = operation["responses"]
            .get(&status)
            .or_else(|| operation["responses"].get("default"))
            .unwrap_or_else(|| {
                panic!(
                    "{}: {method} {template} answered {status}, which the document does not list \
                     ({:?}); body: {}",
                    self.name,
                    operation["responses"]
                        .as_object()
                        .map(|r| r.keys().collect::<Vec<_>>()),
                    String::from_utf8_lossy(&answer.bytes)
                )
            });
        let response = self.resolve(response).clone();
        let media = answer
            .content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let content = &response["content"];
        if content.is_null() {
            assert!(
                answer.bytes.is_empty(),
                "{}: {method} {template} {status}: the document says no body",
                self.name
            );
        } else {
            let documented = content.get(&media).unwrap_or_else(|| {
                panic!(
                    "{}: {method} {template} {status} answered {media}, the document lists {:?}",
                    self.name,
                    content.as_object().map(|c| c.keys().collect::<Vec<_>>())
                )
            });
            if media.ends_with("json") {
                let body = answer.json();
                let mut errors = Vec::new();
                self.validate(&documented["schema"], &body, "$", &mut errors);
                assert!(
                    errors.is_empty(),
                    "{}: {method} {template} {status}: the body does not fit the schema:\n  {}\nbody: {body}",
                    self.name,
                    errors.join("\n  ")
                );
            }
        }
        self.answered
            .insert((method.to_owned(), template.clone(), status));
        self.called.insert((method.to_owned(), template));
    }

    /// Every `(METHOD, template, status)` the document lists.
    fn documented_statuses(&self) -> BTreeSet<(String, String, String)> {
        let mut statuses = BTreeSet::new();
        for (method, template) in self.operations() {
            let operation = &self.doc["paths"][&template][method.to_lowercase()];
            for status in operation["responses"].as_object().into_iter().flatten() {
                statuses.insert((method.clone(), template.clone(), status.0.clone()));
            }
        }
        statuses
    }

    /// Panics naming every status the document lists for an operation that no call was
    /// answered with: a walk that provokes each error case of each operation then proves
    /// the document promises no answer the simulator never gives (a 403 where it answers
    /// 400), as `check` proves it gives none the document does not list.
    pub fn assert_every_status_answered(&self) {
        let missing: Vec<String> = self
            .documented_statuses()
            .difference(&self.answered)
            .filter(|(_, _, status)| status != "default")
            .map(|(method, template, status)| format!("{method} {template} {status}"))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: documented answers no call was given: {missing:?}",
            self.name
        );
    }

    /// Counts `other`'s calls (the same document, called with other credentials) as made.
    pub fn absorb(&mut self, other: &Contract) {
        self.called.extend(other.called.iter().cloned());
        self.answered.extend(other.answered.iter().cloned());
    }

    /// Panics naming every documented operation that no call made.
    pub fn assert_all_called(&self) {
        let missing: Vec<String> = self
            .operations()
            .difference(&self.called)
            .map(|(method, template)| format!("{method} {template}"))
            .collect();
        assert!(
            missing.is_empty(),
            "{}: documented operations never called: {missing:?}",
            self.name
        );
    }

    /// Follows a local `$ref` ("#/components/...") to what it names.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        let mut value = value;
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let pointer = reference.strip_prefix('#').unwrap_or_else(|| {
                panic!("{}: only local $ref are used, not {reference}", self.name)
            });
            value = self
                .doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{}: $ref {reference} points nowhere", self.name));
        }
        value
    }

    /// Appends to `errors` each way `value` (at `at`) breaks `schema`.
    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = self.resolve(schema);
        let Some(schema) = schema.as_object() else {
            // `true` (or an empty schema) allows anything; `false` nothing.
            if schema == &Value::Bool(false) {
                errors.push(format!("{at}: nothing is allowed here"));
            }
            return;
        };
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if !allowed.iter().any(|t| type_matches(t, value)) {
                errors.push(format!("{at}: expected {allowed:?}, got {value}"));
                return;
            }
        }
        if let Some(expected) = schema.get("const") {
            if expected != value {
                errors.push(format!("{at}: expected {expected}, got {value}"));
            }
        }
        if let Some(Value::Array(options)) = schema.get("enum") {
            if !options.contains(value) {
                errors.push(format!("{at}: {value} is not one of {options:?}"));
            }
        }
        if let Value::Object(object) = value {
            for name in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !object.contains_key(name) {
                    errors.push(format!("{at}: missing required '{name}'"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, field) in object {
                let path = format!("{at}.{name}");
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => self.validate(property, field, &path, errors),
                    None => {
                        if let Some(extra) = schema.get("additionalProperties") {
                            self.validate(extra, field, &path, errors);
                        }
                    }
                }
            }
        }
        if let Value::Array(items) = value {
            if let Some(item) = schema.get("items") {
                for (i, element) in items.iter().enumerate() {
                    self.validate(item, element, &format!("{at}[{i}]"), errors);
                }
            }
            let length = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
                if length < min {
                    errors.push(format!("{at}: {length} items, at least {min} expected"));
                }
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
                if length > max {
                    errors.push(format!("{at}: {length} items, at most {max} expected"));
                }
            }
        }
        for sub in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.validate(sub, value, at, errors);
        }
        for (keyword, exactly_one) in [("oneOf", true), ("anyOf", false)] {
            if let Some(Value::Array(options)) = schema.get(keyword) {
                let fitting = options
                    .iter()
                    .filter(|option| {
                        let mut mine = Vec::new();
                        self.validate(option, value, at, &mut mine);
                        mine.is_empty()
                    })
                    .count();
                if fitting == 0 || (exactly_one && fitting > 1) {
                    errors.push(format!(
                        "{at}: {fitting} of the {keyword} options fit {value}"
                    ));
                }
            }
        }
    }

    /// Every schema keyword the document uses that `validate` neither checks nor may
    /// ignore, with where it is.
    pub fn unknown_keywords(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut schemas = Vec::new();
        collect_schemas(&self.doc, "$", &mut schemas);
        for (at, schema) in schemas {
            let Some(object) = schema.as_object() else {
                continue;
            };
            for key in object.keys() {
                if !KNOWN_KEYWORDS.contains(&key.as_str()) && !key.starts_with("x-") {
                    found.push(format!("{at}: {key}"));
                }
            }
        }
        found
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// Every schema in the document: the values under a `schema` key, and their sub-schemas.
fn collect_schemas<'a>(value: &'a Value, at: &str, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                let path = format!("{at}.{key}");
                if key == "schema" || (at.ends_with("components.schemas")) {
                    sub_schemas(child, &path, out);
                } else {
                    collect_schemas(child, &path, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_schemas(item, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn sub_schemas<'a>(schema: &'a Value, at: &str, out: &mut Vec<(String, &'a Value)>) {
    out.push((at.to_owned(), schema));
    let Some(object) = schema.as_object() else {
        return;
    };
    for (key, child) in object {
        let path = format!("{at}.{key}");
        match key.as_str() {
            "properties" => {
                for (name, property) in child.as_object().into_iter().flatten() {
                    sub_schemas(property, &format!("{path}.{name}"), out);
                }
            }
            "items" | "additionalProperties" => sub_schemas(child, &path, out),
            "oneOf" | "anyOf" | "allOf" => {
                for (i, option) in child.as_array().into_iter().flatten().enumerate() {
                    sub_schemas(option, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
}

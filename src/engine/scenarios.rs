//! Scenarios: scripted provider behaviour, written by users in TOML, chosen per resource.
//!
//! A scenario names a provider and a list of effects, each tied to one of that provider's
//! operations (`sign`, `otp.generate`, `list`, ...): answer with an error the first N times
//! or always, add latency, break the connection, move the resource to a state after a delay,
//! cap list pages, override an expiry, or not deliver a message. The engine parses, checks
//! and keeps scenarios and counts how often each effect has fired for each resource; the
//! provider applies what the engine hands back.

use super::tenant::{Tenant, Tenants};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};
use toml::Spanned;

/// What a provider exposes to scenarios; scenario files are checked against it.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSpec {
    pub slug: &'static str,
    pub operations: &'static [&'static str],
    pub states: &'static [&'static str],
    /// Fields of the creating request a `match` may test.
    pub match_fields: &'static [&'static str],
    /// The operations that create their resource (QI Tech's `envelope.create`): an
    /// effect's `times` on one of them counts per scenario and tenant (the first N creates
    /// that pick the scenario), since each resource is new; on the others, per resource.
    pub creates: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Disconnect {
    /// The status line goes out, then the connection is cut mid-answer.
    Reset,
    /// The connection closes before any byte of the answer.
    Empty,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Respond {
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Transition {
    pub after_seconds: u64,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Effect {
    pub operation: String,
    /// Fires the first `times` times; always when `None`.
    pub times: Option<u32>,
    pub respond: Option<Respond>,
    /// Added latency in milliseconds: fixed (`min == max`) or drawn within bounds.
    pub latency_ms: Option<(u64, u64)>,
    pub disconnect: Option<Disconnect>,
    pub transition: Option<Transition>,
    pub page_size: Option<u32>,
    pub expiry_seconds: Option<u64>,
    /// `false`: the message (SMS, e-mail) is not delivered to the outbox.
    pub deliver: Option<bool>,
    /// Provider-specific results the operation reports (biometry scores, check outcomes);
    /// each provider documents the keys it reads.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty", default)]
    pub values: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub provider: String,
    pub description: String,
    /// Chosen for a new resource whose creating request has all these field values.
    #[serde(rename = "match")]
    pub matches: BTreeMap<String, String>,
    pub effects: Vec<Effect>,
    /// The file it came from, or `built-in`.
    pub source: String,
}

/// A problem in a scenario file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub source: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.source, self.line, self.column, self.message
        )
    }
}

// The file format, as deserialized; checked and converted into `Scenario`s.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    scenario: Vec<RawScenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    provider: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "match")]
    matches: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    effects: Vec<RawEffect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEffect {
    operation: Spanned<String>,
    times: Option<u32>,
    respond: Option<RawRespond>,
    latency_ms: Option<Spanned<RawLatency>>,
    disconnect: Option<Disconnect>,
    transition: Option<RawTransition>,
    page_size: Option<u32>,
    expiry_seconds: Option<u64>,
    deliver: Option<bool>,
    #[serde(default)]
    values: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRespond {
    status: Spanned<u16>,
    body: Value,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawLatency {
    Fixed(u64),
    Range { min: u64, max: u64 },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransition {
    after_seconds: u64,
    to: Spanned<String>,
}

/// Line and column (1-based) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Parses and checks one file's scenarios against the providers' specs.
pub fn parse(
    source: &str,
    text: &str,
    specs: &[ProviderSpec],
) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let error_at = |offset: usize, message: String| {
        let (line, column) = position(text, offset);
        ScenarioError {
            source: source.to_owned(),
            line,
            column,
            message,
        }
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        vec![error_at(offset, e.message().to_owned())]
    })?;
    if raw.scenario.is_empty() {
        return Err(vec![error_at(
            0,
            "no [[scenario]] table in this file".into(),
        )]);
    }
    let mut errors = Vec::new();
    let mut scenarios = Vec::new();
    for raw in raw.scenario {
        let provider = raw.provider.get_ref();
        let Some(spec) = specs.iter().find(|s| s.slug == provider) else {
            let known: Vec<&str> = specs.iter().map(|s| s.slug).collect();
            errors.push(error_at(
                raw.provider.span().start,
                format!(
                    "unknown provider '{provider}' (known: {})",
                    known.join(", ")
                ),
            ));
            continue;
        };
        let name = raw.name.get_ref().trim().to_owned();
        if name.is_empty() || name.contains(char::is_whitespace) {
            errors.push(error_at(
                raw.name.span().start,
                "a scenario name must be one word, like otp-wrong-then-right".into(),
            ));
        }
        let (matches, matches_at) = match raw.matches {
            Some(spanned) => {
                let at = spanned.span().start;
                (spanned.into_inner(), at)
            }
            None => (BTreeMap::new(), 0),
        };
        for field in matches.keys() {
            if !spec.match_fields.contains(&field.as_str()) {
                errors.push(error_at(
                    matches_at,
                    format!(
                        "'{field}' cannot be matched for {provider} (fields: {})",
                        spec.match_fields.join(", ")
                    ),
                ));
            }
        }
        let mut effects = Vec::new();
        for effect in raw.effects {
            let operation = effect.operation.get_ref().clone();
            if !spec.operations.contains(&operation.as_str()) {
                errors.push(error_at(
                    effect.operation.span().start,
                    format!(
                        "unknown operation '{operation}' for {provider} (operations: {})",
                        spec.operations.join(", ")
                    ),
                ));
            }
            if let Some(respond) = &effect.respond {
                if !(100..=599).contains(respond.status.get_ref()) {
                    errors.push(error_at(
                        respond.status.span().start,
                        "status must be an HTTP code (100-599)".into(),
                    ));
                }
            }
            let latency_ms = match &effect.latency_ms {
                None => None,
                Some(latency) => match latency.get_ref() {
                    RawLatency::Fixed(ms) => Some((*ms, *ms)),
                    RawLatency::Range { min, max } if min <= max => Some((*min, *max)),
                    RawLatency::Range { .. } => {
                        errors.push(error_at(
                            latency.span().start,
                            "latency_ms: min must not exceed max".into(),
                        ));
                        None
                    }
                },
            };
            if let Some(transition) = &effect.transition {
                let to = transition.to.get_ref();
                if !spec.states.contains(&to.as_str()) {
                    errors.push(error_at(
                        transition.to.span().start,
                        format!(
                            "unknown state '{to}' for {provider} (states: {})",
                            spec.states.join(", ")
                        ),
                    ));
                }
            }
            effects.push(Effect {
                operation,
                times: effect.times,
                respond: effect.respond.map(|r| Respond {
                    status: r.status.into_inner(),
                    body: r.body,
                }),
                latency_ms,
                disconnect: effect.disconnect,
                transition: effect.transition.map(|t| Transition {
                    after_seconds: t.after_seconds,
                    to: t.to.into_inner(),
                }),
                page_size: effect.page_size,
                expiry_seconds: effect.expiry_seconds,
                deliver: effect.deliver,
                values: effect.values,
            });
        }
        scenarios.push(Scenario {
            name,
            provider: provider.clone(),
            description: raw.description,
            matches,
            effects,
            source: source.to_owned(),
        });
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

/// Parses every `*.toml` file of `dir`, in name order.
pub fn parse_dir(dir: &Path, specs: &[ProviderSpec]) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let io_error = |message: String| {
        vec![ScenarioError {
            source: dir.display().to_string(),
            line: 0,
            column: 0,
            message,
        }]
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| io_error(format!("cannot read the directory: {e}")))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let source = path.display().to_string();
        match crate::files::read_bounded_text(&path, crate::files::SMALL_FILE_LIMIT) {
            Ok(text) => match parse(&source, &text, specs) {
                Ok(found) => scenarios.extend(found),
                Err(found) => errors.extend(found),
            },
            Err(e) => errors.extend(io_error(format!("cannot read {source}: {e}"))),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(errors)
    }
}

/// A JSON Schema of the file format (for editors, e.g. with Even Better TOML's
/// `#:schema` directive), listing the known providers, operations and states.
pub fn json_schema(specs: &[ProviderSpec]) -> Value {
    let all = |pick: fn(&ProviderSpec) -> &'static [&'static str]| {
        let mut names: Vec<&str> = specs.iter().flat_map(|s| pick(s).iter().copied()).collect();
        names.sort_unstable();
        names.dedup();
        names
    };
    let providers: Vec<&str> = specs.iter().map(|s| s.slug).collect();
    let latency = serde_json::json!({
        "oneOf": [
            { "type": "integer", "minimum": 0 },
            {
                "type": "object",
                "additionalProperties": false,
                "required": ["min", "max"],
                "properties": {
                    "min": { "type": "integer", "minimum": 0 },
                    "max": { "type": "integer", "minimum": 0 }
                }
            }
        ]
    });
    let respond = serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["status", "body"],
        "properties": {
            "status": { "type": "integer", "minimum": 100, "maximum": 599 },
            "body": { "description": "Answered as is: write it in the provider's own error shape." }
        }
    });
    let transition = serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["after_seconds", "to"],
        "properties": {
            "after_seconds": { "type": "integer", "minimum": 0 },
            "to": { "enum": all(|s| s.states) }
        }
    });
    let effect = serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["operation"],
        "properties": {
            "operation": { "enum": all(|s| s.operations) },
            "times": { "type": "integer", "minimum": 0, "description": "Fire the first N times; always when absent." },
            "respond": respond,
            "latency_ms": latency,
            "disconnect": { "enum": ["reset", "empty"] },
            "transition": transition,
            "page_size": { "type": "integer", "minimum": 1 },
            "expiry_seconds": { "type": "integer", "minimum": 0 },
            "deliver": { "type": "boolean" },
            "values": { "type": "object", "description": "Provider-specific results the operation reports." }
        }
    });
    let scenario = serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "provider"],
        "properties": {
            "name": { "type": "string", "pattern": "^\\S+$" },
            "provider": { "enum": providers },
            "description": { "type": "string" },
            "match": {
                "type": "object",
                "description": "Chosen for a new resource whose creating request has all these values.",
                "propertyNames": { "enum": all(|s| s.match_fields) },
                "additionalProperties": { "type": "string" }
            },
            "effects": { "type": "array", "items": effect }
        }
    });
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "signsim scenario file",
        "type": "object",
        "additionalProperties": false,
        "required": ["scenario"],
        "properties": { "scenario": { "type": "array", "items": scenario } }
    })
}

/// What the effects of one operation on one resource amount to, this time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    pub respond: Option<Respond>,
    pub latency_ms: Option<(u64, u64)>,
    pub disconnect: Option<Disconnect>,
    pub transition: Option<Transition>,
    pub page_size: Option<u32>,
    pub expiry_seconds: Option<u64>,
    pub deliver: bool,
    /// Provider-specific values of the effects that fired; the first effect to set a key wins.
    pub values: serde_json::Map<String, Value>,
}

/// A scenario bound to one resource, with how often each effect has fired.
#[derive(serde::Serialize, Deserialize)]
struct Binding {
    scenario: Arc<Scenario>,
    fired: Vec<u32>,
}

/// A resource: its tenant and its id.
type ResourceKey = (Tenant, String);

/// An effect on a creating operation: the scenario's name, the tenant, the effect's index.
type CreateKey = (String, Tenant, usize);

pub struct Scenarios {
    specs: Vec<ProviderSpec>,
    by_name: RwLock<BTreeMap<String, Arc<Scenario>>>,
    bindings: dashmap::DashMap<ResourceKey, Binding>,
    /// How often each effect on a creating operation fired, per scenario and tenant.
    creates: dashmap::DashMap<CreateKey, u32>,
    /// Scenario applied when nothing else chooses one (normally none: the happy path).
    default: Option<String>,
}

impl Scenarios {
    pub fn new(specs: Vec<ProviderSpec>, default: Option<String>) -> Scenarios {
        Scenarios {
            specs,
            by_name: RwLock::new(BTreeMap::new()),
            bindings: dashmap::DashMap::new(),
            creates: dashmap::DashMap::new(),
            default,
        }
    }

    pub fn specs(&self) -> &[ProviderSpec] {
        &self.specs
    }

    /// Adds scenarios, replacing any of the same name.
    pub fn load(&self, scenarios: Vec<Scenario>) {
        let mut by_name = self.by_name.write().unwrap_or_else(|p| p.into_inner());
        for scenario in scenarios {
            by_name.insert(scenario.name.clone(), Arc::new(scenario));
        }
    }

    pub fn list(&self) -> Vec<Arc<Scenario>> {
        self.by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<Arc<Scenario>> {
        self.by_name
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// The scenario for a new resource of `provider`: the one `requested` by header, else
    /// the first whose `match` the creating request satisfies, else the default. An unknown
    /// requested name (or one for another provider) is an error naming the known ones.
    pub fn choose(
        &self,
        provider: &str,
        requested: Option<&str>,
        field: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Arc<Scenario>>, String> {
        let all = self.list();
        let mine = || all.iter().filter(|s| s.provider == provider);
        if let Some(name) = requested {
            return mine()
                .find(|s| s.name == name)
                .cloned()
                .map(Some)
                .ok_or_else(|| {
                    let known: Vec<&str> = mine().map(|s| s.name.as_str()).collect();
                    format!(
                        "unknown scenario '{name}' for {provider} (known: {})",
                        known.join(", ")
                    )
                });
        }
        let matched = mine().find(|s| {
            !s.matches.is_empty()
                && s.matches
                    .iter()
                    .all(|(k, v)| field(k).is_some_and(|actual| actual.eq_ignore_ascii_case(v)))
        });
        if let Some(scenario) = matched {
            return Ok(Some(scenario.clone()));
        }
        Ok(self
            .default
            .as_deref()
            .and_then(|name| mine().find(|s| s.name == name).cloned()))
    }

    pub fn bind(&self, tenant: &Tenant, resource: &str, scenario: Arc<Scenario>) {
        let fired = vec![0; scenario.effects.len()];
        self.bindings.insert(
            (tenant.clone(), resource.to_owned()),
            Binding { scenario, fired },
        );
    }

    /// Whether `operation` creates its resource in `provider`'s spec.
    fn creates(&self, provider: &str, operation: &str) -> bool {
        self.specs
            .iter()
            .any(|spec| spec.slug == provider && spec.creates.contains(&operation))
    }

    /// The effects that fire for `operation` on a resource now, counting them as fired.
    pub fn on(&self, tenant: &Tenant, resource: &str, operation: &str) -> Applied {
        let mut applied = Applied {
            deliver: true,
            ..Applied::default()
        };
        let key = (tenant.clone(), resource.to_owned());
        let Some(mut binding) = self.bindings.get_mut(&key) else {
            return applied;
        };
        let binding = &mut *binding;
        let creating = self.creates(&tenant.provider, operation);
        for (index, (effect, fired)) in binding
            .scenario
            .effects
            .iter()
            .zip(binding.fired.iter_mut())
            .enumerate()
        {
            if effect.operation != operation {
                continue;
            }
            // A creating operation counts across the tenant's resources of the scenario.
            let mut per_tenant = creating.then(|| {
                self.creates
                    .entry((binding.scenario.name.clone(), tenant.clone(), index))
                    .or_insert(0)
            });
            let fired = match per_tenant.as_deref_mut() {
                Some(count) => count,
                None => fired,
            };
            if effect.times.is_some_and(|times| *fired >= times) {
                continue;
            }
            // Saturating: a restored count may be anything a state file says.
            *fired = fired.saturating_add(1);
            applied.respond = applied.respond.or_else(|| effect.respond.clone());
            applied.latency_ms = applied.latency_ms.or(effect.latency_ms);
            applied.disconnect = applied.disconnect.or(effect.disconnect);
            applied.transition = applied.transition.or_else(|| effect.transition.clone());
            applied.page_size = applied.page_size.or(effect.page_size);
            applied.expiry_seconds = applied.expiry_seconds.or(effect.expiry_seconds);
            if effect.deliver == Some(false) {
                applied.deliver = false;
            }
            for (key, value) in &effect.values {
                if !applied.values.contains_key(key) {
                    applied.values.insert(key.clone(), value.clone());
                }
            }
        }
        applied
    }

    pub fn reset(&self, tenants: &Tenants) {
        self.bindings.retain(|(t, _), _| !tenants.includes(t));
        self.creates.retain(|(_, t, _), _| !tenants.includes(t));
        // One binding per resource: give back the table's room too.
        self.bindings.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ProviderSpec = ProviderSpec {
        slug: "demo",
        operations: &["sign", "otp.generate", "create"],
        states: &["OPEN", "DONE"],
        match_fields: &["phone"],
        creates: &["create"],
    };

    fn t(name: &str) -> Tenant {
        Tenant::new("demo", name)
    }

    #[test]
    fn errors_name_file_line_and_what_is_wrong() {
        let text = "[[scenario]]\nname = \"x\"\nprovider = \"demo\"\n\n[[scenario.effects]]\noperation = \"fly\"\n";
        let errors = parse("x.toml", text, &[SPEC]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (6, 13));
        assert!(
            errors[0].message.contains("unknown operation 'fly'"),
            "{}",
            errors[0]
        );

        let unknown_state = "[[scenario]]\nname = \"x\"\nprovider = \"demo\"\n[[scenario.effects]]\noperation = \"sign\"\ntransition = { after_seconds = 5, to = \"GONE\" }\n";
        let errors = parse("y.toml", unknown_state, &[SPEC]).unwrap_err();
        assert!(errors[0].message.contains("unknown state 'GONE'"));
        assert_eq!(errors[0].line, 6);

        let bad_syntax = "[[scenario]]\nname = \n";
        let errors = parse("z.toml", bad_syntax, &[SPEC]).unwrap_err();
        assert_eq!(errors[0].line, 2);

        let other_provider = "[[scenario]]\nname = \"x\"\nprovider = \"nope\"\n";
        assert!(parse("p.toml", other_provider, &[SPEC]).unwrap_err()[0]
            .message
            .contains("unknown provider"));
        let unknown_key = "[[scenario]]\nname = \"x\"\nprovider = \"demo\"\ncolour = 1\n";
        assert!(parse("k.toml", unknown_key, &[SPEC]).is_err());
    }

    #[test]
    fn effects_fire_the_given_number_of_times() {
        let text = "[[scenario]]\nname = \"once\"\nprovider = \"demo\"\nmatch = { phone = \"+1555\" }\n[[scenario.effects]]\noperation = \"sign\"\ntimes = 1\nrespond = { status = 403, body = { error = \"no\" } }\n";
        let scenarios = Scenarios::new(vec![SPEC], None);
        scenarios.load(parse("once.toml", text, &[SPEC]).unwrap());
        let chosen = scenarios
            .choose("demo", None, |f| (f == "phone").then(|| "+1555".to_owned()))
            .unwrap()
            .unwrap();
        assert!(scenarios.choose("demo", None, |_| None).unwrap().is_none());
        assert!(scenarios.choose("demo", Some("nope"), |_| None).is_err());
        scenarios.bind(&t("t"), "r1", chosen);
        assert_eq!(
            scenarios
                .on(&t("t"), "r1", "sign")
                .respond
                .map(|r| r.status),
            Some(403)
        );
        assert_eq!(scenarios.on(&t("t"), "r1", "sign").respond, None);
        assert_eq!(scenarios.on(&t("t"), "r2", "sign").respond, None);
    }

    #[test]
    fn times_on_a_creating_operation_count_per_scenario_and_tenant() {
        let text = "[[scenario]]\nname = \"flaky\"\nprovider = \"demo\"\n[[scenario.effects]]\noperation = \"create\"\ntimes = 1\nrespond = { status = 503, body = {} }\n";
        let scenarios = Scenarios::new(vec![SPEC], None);
        let flaky = Arc::new(parse("f.toml", text, &[SPEC]).unwrap()[0].clone());
        let status = |tenant: &Tenant, resource: &str| {
            scenarios.bind(tenant, resource, flaky.clone());
            scenarios
                .on(tenant, resource, "create")
                .respond
                .map(|r| r.status)
        };
        assert_eq!(status(&t("a"), "r1"), Some(503));
        // The retry creates a new resource: the gateway failed once, then it works.
        assert_eq!(status(&t("a"), "r2"), None);
        // Another tenant has its own count.
        assert_eq!(status(&t("b"), "r3"), Some(503));
        scenarios.reset(&Tenants::only(&t("a")));
        assert_eq!(status(&t("a"), "r4"), Some(503));
    }

    #[test]
    fn values_reach_the_provider_first_effect_first() {
        let text = "[[scenario]]\nname = \"v\"\nprovider = \"demo\"\n[[scenario.effects]]\noperation = \"sign\"\nvalues = { score = 30, result = \"spoof\" }\n[[scenario.effects]]\noperation = \"sign\"\nvalues = { score = 99, extra = true }\n";
        let scenarios = Scenarios::new(vec![SPEC], None);
        let parsed = parse("v.toml", text, &[SPEC]).unwrap();
        scenarios.bind(&t("t"), "r", Arc::new(parsed[0].clone()));
        let values = scenarios.on(&t("t"), "r", "sign").values;
        assert_eq!(values["score"], 30);
        assert_eq!(values["result"], "spoof");
        assert_eq!(values["extra"], true);
        assert!(scenarios.on(&t("t"), "r", "otp.generate").values.is_empty());
    }
}

/// Every scenario (those loaded through the admin API too) and every binding, each with
/// its own copy of its scenario: a binding keeps the scenario as it was when it was bound,
/// even if one of the same name was loaded since.
#[derive(serde::Serialize, Deserialize)]
struct SavedScenarios {
    scenarios: Vec<Arc<Scenario>>,
    bindings: Vec<(ResourceKey, Binding)>,
    creates: Vec<(CreateKey, u32)>,
}

impl super::persist::Persist for Scenarios {
    fn snapshot(&self) -> Box<dyn super::persist::Snapshot> {
        Box::new(SavedScenarios {
            scenarios: self.list(),
            bindings: self
                .bindings
                .iter()
                .map(|entry| {
                    let binding = entry.value();
                    (
                        entry.key().clone(),
                        Binding {
                            scenario: binding.scenario.clone(),
                            fired: binding.fired.clone(),
                        },
                    )
                })
                .collect(),
            creates: self
                .creates
                .iter()
                .map(|entry| (entry.key().clone(), *entry.value()))
                .collect(),
        })
    }

    fn restore(&self, json: &str) -> Result<(), String> {
        let saved: SavedScenarios = super::persist::parse(json)?;
        self.load(
            saved
                .scenarios
                .into_iter()
                .map(Arc::unwrap_or_clone)
                .collect(),
        );
        self.bindings.clear();
        for (key, binding) in saved.bindings {
            self.bindings.insert(key, binding);
        }
        self.creates.clear();
        for (key, count) in saved.creates {
            self.creates.insert(key, count);
        }
        Ok(())
    }
}

//! What a provider brings, checked in one place. Beyond its folder and its line in the
//! registry (`signsim::PROVIDERS`, which the compiler holds), adding a provider takes files
//! and entries elsewhere (docs/architecture.md, "Adding a provider"); for every registered
//! provider this test names each one that is missing:
//!
//! - its guide `docs/providers/<slug>.md`, its section under the README's *Providers*
//!   linking it, its admin calls (if the admin document has any under `/<slug>/`) in the
//!   README's admin table, and its section in `docs/fidelity.md` (headed as in the README);
//! - its test files `tests/http/<slug>*.rs`, each a module of `tests/http/main.rs`;
//! - its OpenAPI document `openapi/<slug>.json` (the text `PROVIDER.openapi` holds) and its
//!   walk in `tests/http/openapi/providers.rs`;
//! - its schemathesis run in `ci/schemathesis.sh`, with the config file the run names;
//! - its scenario file `scenarios/<slug>.toml` (the text `PROVIDER.scenarios` holds) and
//!   its seed in `fuzz/corpus/scenarios/`;
//! - every operation of its document among the routes `hostile.rs` calls, and the entries
//!   the registry-derived tests need: `KNOWN` in `hostile.rs` (filling every path
//!   parameter of its operations and of its admin calls), `REACH` in
//!   `fuzz/fuzz_targets/reach.rs` (filling every path parameter of its operations with a
//!   body, which the `bodies` fuzz target calls), `FLOWS` in `load_faults.rs`.

use crate::documents::{operations, parameters};
use crate::{hostile, load_faults};
use std::path::{Path, PathBuf};

// The fuzz target's table, compiled here too, so that `cargo test` checks it although only
// ci/fuzz.sh builds the fuzz workspace. Only the slugs and parameters are read here.
#[allow(dead_code)]
#[path = "../../fuzz/fuzz_targets/reach.rs"]
mod fuzz_reach;

/// A provider as the checks read it: what the registry says of it.
struct Brought<'a> {
    slug: &'a str,
    openapi: &'a str,
    /// Its scenario file: where the registry says it lives, and its text.
    scenarios: (&'a str, &'a str),
}

impl Brought<'static> {
    fn of(provider: &'static signsim::providers::Provider) -> Brought<'static> {
        Brought {
            slug: provider.slug,
            openapi: provider.openapi,
            scenarios: provider.scenarios,
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(root: &Path, file: &str) -> String {
    std::fs::read_to_string(root.join(file)).unwrap_or_default()
}

/// Everything `provider` lacks, one line each, starting with its slug. Empty: it brings
/// everything.
fn missing(root: &Path, provider: &Brought) -> Vec<String> {
    let slug = provider.slug;
    let mut missing = Vec::new();
    let mut lacks = |what: String| missing.push(format!("{slug}: {what}"));

    // Its guide, and its section in the README that links it.
    let guide = format!("docs/providers/{slug}.md");
    if !root.join(&guide).is_file() {
        lacks(format!("no guide {guide}"));
    }
    let readme = read(root, "README.md");
    match readme_section(&readme, &guide) {
        None => lacks(format!(
            "no section under README.md's \"## Providers\" linking ({guide})"
        )),
        // Its fidelity notes: a section headed as its README section is (or longer).
        Some(heading) => {
            let fidelity = read(root, "docs/fidelity.md");
            if !fidelity.lines().any(|l| {
                l.strip_prefix("## ")
                    .is_some_and(|h| h.starts_with(&heading))
            }) {
                lacks(format!("no section \"## {heading}\" in docs/fidelity.md"));
            }
        }
    }
    // Its admin calls, if it has any, in the README's table of them.
    let admin_calls = operations("admin", signsim::admin::openapi::ADMIN)
        .into_iter()
        .any(|op| op.path.starts_with(&format!("/{slug}/")));
    let table = section(&readme, "### Provider admin calls and pages");
    if admin_calls && !table.contains(&format!(" /_signsim/{slug}/")) {
        lacks(format!(
            "its admin calls (/_signsim/{slug}/... in openapi/admin.json) are not in README.md's \
             \"Provider admin calls and pages\""
        ));
    }

    // Its tests, each compiled.
    let modules = read(root, "tests/http/main.rs");
    let tests: Vec<String> = std::fs::read_dir(root.join("tests/http"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|name| name.starts_with(slug) && name.ends_with(".rs"))
                .collect()
        })
        .unwrap_or_default();
    if tests.is_empty() {
        lacks(format!("no test file tests/http/{slug}*.rs"));
    }
    for file in tests {
        let module = file.trim_end_matches(".rs");
        if !modules
            .lines()
            .any(|l| l.trim() == format!("mod {module};"))
        {
            lacks(format!(
                "tests/http/{file} is not a module of tests/http/main.rs"
            ));
        }
    }

    // Its OpenAPI document, served as the registry holds it, and walked.
    let document = format!("openapi/{slug}.json");
    match std::fs::read_to_string(root.join(&document)) {
        Err(_) => lacks(format!("no OpenAPI document {document}")),
        Ok(text) if text != provider.openapi => lacks(format!(
            "{document} is not the document its PROVIDER.openapi holds"
        )),
        Ok(_) => {}
    }
    let walk = format!("Calls::new(&sim, \"{slug}\")");
    if !read(root, "tests/http/openapi/providers.rs").contains(&walk) {
        lacks(format!(
            "no walk through its document in tests/http/openapi/providers.rs ({walk})"
        ));
    }

    // Its schemathesis run, and the config file that run names.
    let script = read(root, "ci/schemathesis.sh");
    let run = format!("run {slug} && surface {slug} ");
    match script.lines().find_map(|l| l.strip_prefix(&run)) {
        None => lacks(format!(
            "no schemathesis run in ci/schemathesis.sh (`{run}\"$work/<config>.toml\" ...`)"
        )),
        Some(rest) => {
            let config = rest.split_whitespace().next().unwrap_or("");
            if !script.contains(&format!(">{config}")) {
                lacks(format!(
                    "ci/schemathesis.sh runs it with {config}, which the script never writes"
                ));
            }
        }
    }

    // Its scenario file, and its seed for the scenarios fuzz target.
    let scenarios = format!("scenarios/{slug}.toml");
    let (named, text) = provider.scenarios;
    if named != scenarios {
        lacks(format!("PROVIDER.scenarios names {named}, not {scenarios}"));
    }
    match std::fs::read_to_string(root.join(&scenarios)) {
        Err(_) => lacks(format!("no scenario file {scenarios}")),
        Ok(file) if file != text => lacks(format!(
            "{scenarios} is not the text its PROVIDER.scenarios holds"
        )),
        Ok(_) => {}
    }
    let seed = format!("fuzz/corpus/scenarios/{slug}.toml");
    if !root.join(&seed).is_file() {
        lacks(format!("no seed {seed} for the scenarios fuzz target"));
    }

    // Its operations: called by the hostile test, fuzzed by `bodies`, and its admin calls
    // (the admin document's paths under `/<slug>/`) reachable by the hostile test too.
    let ops = operations(slug, provider.openapi);
    let admin_ops: Vec<_> = operations("admin", signsim::admin::openapi::ADMIN)
        .into_iter()
        .filter(|op| op.path.starts_with(&format!("/{slug}/")))
        .collect();
    let routes: Vec<String> = hostile::routes().iter().map(|r| r.shown()).collect();
    for op in &ops {
        let route = format!("{} /{slug}{}", op.method, op.path);
        if !routes.contains(&route) {
            lacks(format!(
                "{route} is not among the routes tests/http/hostile.rs calls"
            ));
        }
    }
    match hostile::KNOWN.iter().find(|k| k.slug == slug) {
        None => lacks(
            "no entry in KNOWN (tests/http/hostile.rs): its credential, resources and path \
             parameters"
                .to_owned(),
        ),
        Some(known) => {
            let own = ops.iter().map(|op| (format!("/{slug}"), op));
            let admin = admin_ops.iter().map(|op| ("/_signsim".to_owned(), op));
            for (prefix, op) in own.chain(admin) {
                for name in op.parameters() {
                    if !known.params.contains(&name) {
                        lacks(format!(
                            "KNOWN (tests/http/hostile.rs) has no value for {{{name}}} of \
                             {} {prefix}{}",
                            op.method, op.path
                        ));
                    }
                }
            }
        }
    }
    match fuzz_reach::REACH.iter().find(|r| r.slug == slug) {
        None => lacks(
            "no entry in REACH (fuzz/fuzz_targets/reach.rs): its operations with a body are \
             never fuzzed"
                .to_owned(),
        ),
        Some(reach) => {
            for op in ops.iter().filter(|op| op.has_body) {
                for name in op.parameters() {
                    if !reach.params.iter().any(|(known, _)| *known == name) {
                        lacks(format!(
                            "REACH (fuzz/fuzz_targets/reach.rs) has no value for {{{name}}} of \
                             {} /{slug}{}",
                            op.method, op.path
                        ));
                    }
                }
            }
        }
    }
    if !load_faults::FLOWS.iter().any(|f| f.slug == slug) {
        lacks("no entry in FLOWS (tests/http/load_faults.rs): its flow under load".to_owned());
    }
    missing
}

/// The lines under `heading` (a whole line), up to the next heading of its level or above
/// (outside code blocks, whose `#` lines are shell comments).
fn section(text: &str, heading: &str) -> String {
    let level = heading.len() - heading.trim_start_matches('#').len();
    let mut lines = text.lines().skip_while(|l| *l != heading).skip(1);
    let mut fenced = false;
    let mut kept = Vec::new();
    for line in lines.by_ref() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if !fenced && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            break;
        }
        kept.push(line);
    }
    kept.join("\n")
}

/// The heading of the `###` section under the README's `## Providers` that links `guide`.
fn readme_section(readme: &str, guide: &str) -> Option<String> {
    section(readme, "## Providers")
        .split("\n### ")
        .skip(1)
        .find(|part| part.contains(&format!("({guide})")))
        .and_then(|part| part.lines().next())
        .map(str::to_owned)
}

#[test]
fn every_registered_provider_brings_everything() {
    let root = root();
    let missing: Vec<String> = signsim::PROVIDERS
        .iter()
        .flat_map(|provider| missing(&root, &Brought::of(provider)))
        .collect();
    assert!(missing.is_empty(), "\n{}\n", missing.join("\n"));
}

/// A provider that brings nothing but its registry entry is told each missing piece.
#[test]
fn a_provider_that_brings_nothing_is_told_each_piece() {
    let openapi = r#"{"openapi": "3.1.0", "paths": {
        "/things": {"get": {"responses": {"200": {"description": "the things"}}}},
        "/things/{thing_id}": {"post": {"requestBody": {"content": {}},
            "responses": {"200": {"description": "done"}}}}
    }}"#;
    let fake = Brought {
        slug: "fakesign",
        openapi,
        scenarios: ("scenarios/fake.toml", ""),
    };
    let missing = missing(&root(), &fake);
    assert!(
        missing.iter().all(|m| m.starts_with("fakesign: ")),
        "{missing:#?}"
    );
    for expected in [
        "no guide docs/providers/fakesign.md",
        "README.md's \"## Providers\" linking (docs/providers/fakesign.md)",
        "no test file tests/http/fakesign*.rs",
        "no OpenAPI document openapi/fakesign.json",
        "tests/http/openapi/providers.rs (Calls::new(&sim, \"fakesign\"))",
        "no schemathesis run in ci/schemathesis.sh",
        "PROVIDER.scenarios names scenarios/fake.toml, not scenarios/fakesign.toml",
        "no scenario file scenarios/fakesign.toml",
        "no seed fuzz/corpus/scenarios/fakesign.toml",
        "GET /fakesign/things is not among the routes tests/http/hostile.rs calls",
        "POST /fakesign/things/{thing_id} is not among the routes",
        "no entry in KNOWN (tests/http/hostile.rs)",
        "no entry in REACH (fuzz/fuzz_targets/reach.rs)",
        "no entry in FLOWS (tests/http/load_faults.rs)",
    ] {
        assert!(
            missing.iter().any(|m| m.contains(expected)),
            "{expected:?} is not among {missing:#?}"
        );
    }
}

/// A registered provider whose document gains an operation the tables cannot fill is told
/// which parameter of which operation; the pieces it has are not reported.
#[test]
fn a_new_operation_without_values_is_told_by_its_parameter() {
    let provider = signsim::PROVIDERS
        .iter()
        .find(|p| p.slug == "qitech")
        .expect("QI Tech is registered");
    let mut document: serde_json::Value = serde_json::from_str(provider.openapi).unwrap();
    document["paths"]["/sign/envelope/{envelope_id}/seal/{seal_id}"] = serde_json::json!({
        "post": { "requestBody": { "content": {} }, "responses": { "200": { "description": "" } } }
    });
    let openapi = document.to_string();
    let changed = Brought {
        openapi: &openapi,
        ..Brought::of(provider)
    };
    let missing = missing(&root(), &changed);
    let route = "POST /qitech/sign/envelope/{envelope_id}/seal/{seal_id}";
    assert_eq!(
        missing,
        [
            "qitech: openapi/qitech.json is not the document its PROVIDER.openapi holds"
                .to_owned(),
            format!("qitech: {route} is not among the routes tests/http/hostile.rs calls"),
            format!("qitech: KNOWN (tests/http/hostile.rs) has no value for {{seal_id}} of {route}"),
            format!("qitech: REACH (fuzz/fuzz_targets/reach.rs) has no value for {{seal_id}} of {route}"),
        ]
    );
    // The path parameters read from the document are what the tables are checked against.
    assert_eq!(parameters(route), ["envelope_id", "seal_id"]);
}

/// The README and fidelity checks read sections by their headings, past code blocks whose
/// `#` lines are comments: a README that links the guide after such a block, with no
/// admin table row and no fidelity section, is told exactly those two.
#[test]
fn a_readme_without_admin_rows_and_fidelity_notes_is_told() {
    let root = std::env::temp_dir().join(format!("signsim-registry-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let readme =
        "# signsim\n\n## Providers\n\n### Mensatek\n\n```sh\n# [{\"Res\":\"10\"}]\n```\n\n\
                  ### QI Tech Sign\n\nSee [the guide](docs/providers/qitech.md).\n\n\
                  ## Admin API\n\n### Provider admin calls and pages\n\n| call | does |\n\
                  | --- | --- |\n| `GET /_signsim/mensatek/v/{code}` | page |\n";
    std::fs::write(root.join("README.md"), readme).unwrap();
    let provider = signsim::PROVIDERS
        .iter()
        .find(|p| p.slug == "qitech")
        .expect("QI Tech is registered");
    let missing = missing(&root, &Brought::of(provider));
    std::fs::remove_dir_all(&root).ok();
    assert!(
        !missing
            .iter()
            .any(|m| m.contains("no section under README.md")),
        "{missing:#?}"
    );
    for expected in [
        "qitech: no section \"## QI Tech Sign\" in docs/fidelity.md",
        "qitech: its admin calls (/_signsim/qitech/... in openapi/admin.json) are not in \
         README.md's \"Provider admin calls and pages\"",
    ] {
        assert!(
            missing.iter().any(|m| m == expected),
            "{expected:?} is not among {missing:#?}"
        );
    }
}

//! QI Tech's envelope statuses as the simulator's own tools show them: the dashboard shows
//! a new envelope as `created` (not its event's text), a scripted transition whose
//! `after_seconds` overflows never fires, and every status event carries `from`/`to`.

use crate::common::Sim;
use crate::qitech::{envelope, patch, post, signer, submitted, KEY};
use serde_json::{json, Value};

fn text(answer: &crate::common::Answer) -> String {
    String::from_utf8_lossy(&answer.bytes).into_owned()
}

/// The dashboard row of QI Tech envelope `id` of the test key.
fn dashboard_row(html: &str, id: &str) -> String {
    let link = format!("href=\"/_signsim/resources/qitech/{KEY}/{id}\"");
    let at = html
        .find(&link)
        .unwrap_or_else(|| panic!("no row for {id} in {html}"));
    let start = html[..at].rfind("<tr>").expect("the row's start");
    let end = at + html[at..].find("</tr>").expect("the row's end");
    html[start..end].to_owned()
}

/// The `status` events of envelope `id`, as `(from, to, text)`.
async fn status_events(sim: &Sim, id: &str) -> Vec<(Value, Value, String)> {
    let events = sim
        .get(&sim.url(&format!("/_signsim/events?provider=qitech&id={id}")))
        .await
        .json();
    events
        .as_array()
        .expect("a list of events")
        .iter()
        .filter(|e| e["kind"] == "status")
        .map(|e| {
            let text = e["text"].as_str().unwrap_or_default().to_owned();
            (e["from"].clone(), e["to"].clone(), text)
        })
        .collect()
}

async fn create_with_scenario(sim: &Sim, id: &str, scenario: &str) {
    let created = sim
        .http
        .post(sim.url("/qitech/sign/envelope"))
        .header("authorization", KEY)
        .header("x-signsim-scenario", scenario)
        .json(&envelope(id, vec![signer("1", "a@example.com")]))
        .send()
        .await
        .expect("request sent");
    assert_eq!(created.status(), 201);
}

async fn status(sim: &Sim, id: &str) -> Value {
    crate::qitech::get(sim, &format!("/sign/envelope/{id}"))
        .await
        .json()["status"]
        .clone()
}

#[tokio::test]
async fn a_new_envelope_shows_created_on_the_dashboard() {
    let sim = crate::common::start().await;
    let created = post(
        &sim,
        "/sign/envelope",
        envelope("fresh", vec![signer("1", "a@example.com")]),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["status"], "created");

    let dashboard = sim.browse(&sim.url("/_signsim?provider=qitech")).await;
    assert_eq!(dashboard.status, 200);
    let row = dashboard_row(&text(&dashboard), "fresh");
    assert!(row.contains("<td class=\"status\">created</td>"), "{row}");
    assert!(
        !row.contains("<td class=\"status\">envelope created</td>"),
        "{row}"
    );
    let page = sim
        .browse(&sim.url(&format!("/_signsim/resources/qitech/{KEY}/fresh")))
        .await;
    assert!(text(&page).contains("id=\"status\">created<"));
}

#[tokio::test]
async fn an_overflowing_scripted_transition_never_fires() {
    let sim = crate::common::start().await;
    // The same transition twice, once overflowing and once a minute later, so the test
    // can tell a transition that fires from one that does not. A created envelope never
    // expires (only a submitted one does), so nothing else moves it.
    sim.load_scenarios(
        r#"
[[scenario]]
name = "qi-cancel-never"
provider = "qitech"
[[scenario.effects]]
operation = "envelope.create"
transition = { after_seconds = 18446744073709551615, to = "canceled" }

[[scenario]]
name = "qi-cancel-soon"
provider = "qitech"
[[scenario.effects]]
operation = "envelope.create"
transition = { after_seconds = 60, to = "canceled" }
"#,
    )
    .await;
    create_with_scenario(&sim, "never", "qi-cancel-never").await;
    create_with_scenario(&sim, "soon", "qi-cancel-soon").await;

    let advanced = sim
        .post_json(
            &sim.url("/_signsim/clock/advance"),
            json!({ "seconds": 3_155_760_000u64 }),
        )
        .await;
    assert_eq!(advanced.status, 200, "{:?}", advanced.json());

    assert_eq!(status(&sim, "soon").await, "canceled");
    let soon = status_events(&sim, "soon").await;
    assert!(
        soon.contains(&(
            json!("created"),
            json!("canceled"),
            "created → canceled (scenario)".to_owned()
        )),
        "{soon:?}"
    );
    assert_eq!(status(&sim, "never").await, "created");
    let never = status_events(&sim, "never").await;
    assert!(
        !never.iter().any(|(_, _, text)| text.contains("(scenario)")),
        "{never:?}"
    );
}

#[tokio::test]
async fn status_events_carry_from_and_to() {
    let sim = crate::common::start().await;
    // Created, submitted, canceled.
    submitted(&sim, "typed", vec![signer("1", "a@example.com")]).await;
    assert_eq!(patch(&sim, "typed", "canceled").await.status, 200);
    assert_eq!(
        status_events(&sim, "typed").await,
        vec![
            (Value::Null, json!("created"), "envelope created".to_owned()),
            (
                json!("created"),
                json!("submitted"),
                "created → submitted".to_owned()
            ),
            (
                json!("submitted"),
                json!("canceled"),
                "submitted → canceled".to_owned()
            ),
        ]
    );

    // Completed by the last signature.
    submitted(&sim, "done", vec![signer("1", "a@example.com")]).await;
    let signed = sim
        .post_json(
            &sim.url("/_signsim/qitech/envelopes/done/signers/1/sign"),
            json!({ "api_key": KEY }),
        )
        .await;
    assert_eq!(signed.status, 200, "{:?}", signed.json());
    let done = status_events(&sim, "done").await;
    assert_eq!(
        done.last(),
        Some(&(
            json!("submitted"),
            json!("completed"),
            "submitted → completed".to_owned()
        )),
        "{done:?}"
    );

    // Expired by its date, on the clock.
    submitted(&sim, "late", vec![signer("1", "a@example.com")]).await;
    sim.post_json(
        &sim.url("/_signsim/clock/advance"),
        json!({ "seconds": 11 * 86400 }),
    )
    .await;
    let late = status_events(&sim, "late").await;
    assert_eq!(
        late.last(),
        Some(&(
            json!("submitted"),
            json!("expired"),
            "submitted → expired".to_owned()
        )),
        "{late:?}"
    );
}

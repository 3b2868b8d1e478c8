//! Paged lists (issue 22): `?limit=&before=` on the admin API's JSON lists answers newest
//! first with the next cursor in `X-Signsim-Older`, the pages chain through every entry
//! exactly once, and the dashboard and the inbox show one page with an "older" link. The
//! lists without parameters answer as they always did (their snapshots pin that).

use crate::common::{start, Sim};
use crate::qitech::{configure_hook, get, signer, submitted};
use crate::receiver::{self, eventually};
use serde_json::{json, Value};

fn text(answer: &crate::common::Answer) -> String {
    String::from_utf8_lossy(&answer.bytes).into_owned()
}

/// `path` (which may carry a query already) with `extra` parameters added.
fn with(path: &str, extra: &str) -> String {
    let join = if path.contains('?') { '&' } else { '?' };
    format!("{path}{join}{extra}")
}

/// A GET answering JSON, with its `X-Signsim-Older` cursor.
async fn get_page(sim: &Sim, path: &str) -> (Vec<Value>, Option<String>) {
    let response = sim.http.get(sim.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let older = response
        .headers()
        .get("x-signsim-older")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    (body.as_array().expect("a list").clone(), older)
}

/// Every page of `path` of `limit` entries, following the cursors from the newest.
async fn every_page(sim: &Sim, path: &str, limit: usize) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let mut query = format!("limit={limit}");
        if let Some(cursor) = &before {
            query.push_str(&format!("&before={cursor}"));
        }
        let (entries, older) = get_page(sim, &with(path, &query)).await;
        assert!(
            entries.len() <= limit,
            "{path}: a page holds at most {limit}"
        );
        pages.push(entries);
        match older {
            Some(cursor) => before = Some(cursor),
            None => return pages,
        }
        assert!(pages.len() < 1_000, "{path}: the cursors never end");
    }
}

/// Signs envelope `id` as signer 1 through its signing page, as a person would.
async fn sign_through_the_page(sim: &Sim, id: &str) {
    let link = get(sim, &format!("/sign/envelope/{id}")).await.json()["signers"][0]
        ["signature_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = sim.browse(&link).await;
    assert_eq!(page.status, 200);
    let messages = sim
        .get(&sim.url("/_signsim/outbox?provider=qitech&channel=sms"))
        .await
        .json();
    let token = messages.as_array().unwrap().last().unwrap()["otp"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed = sim
        .submit_form(
            &link,
            &page,
            &[("cpf", "111.111.111-11"), ("token", &token)],
        )
        .await;
    assert_eq!(signed.status, 200, "{}", text(&signed));
}

#[tokio::test]
async fn paged_json_lists_chain_newest_first_through_every_entry_once() {
    let sim = start().await;
    let hook = receiver::start(0).await;
    assert_eq!(configure_hook(&sim, &hook.url, json!({})).await.status, 200);
    for id in ["env-1", "env-2", "env-3"] {
        submitted(&sim, id, vec![signer("1", &format!("{id}@example.com"))]).await;
        sign_through_the_page(&sim, id).await;
    }
    eventually("three webhooks", async || hook.bodies().len() >= 3).await;
    eventually("three attempts recorded", async || {
        let (attempts, _) = get_page(&sim, "/_signsim/webhooks").await;
        attempts.len() >= 3
    })
    .await;

    // The journal's own admin calls are journaled too: its list is read for qitech alone.
    for path in [
        "/_signsim/requests?provider=qitech",
        "/_signsim/events",
        "/_signsim/events?provider=qitech&id=env-2",
        "/_signsim/outbox",
        "/_signsim/outbox?channel=sms",
        "/_signsim/webhooks",
    ] {
        let (all, older) = get_page(&sim, path).await;
        assert!(older.is_none(), "{path}: no cursor without paging");
        assert!(all.len() >= 3, "{path}: {all:?}");
        for limit in [1, 2, 1_000] {
            let pages = every_page(&sim, path, limit).await;
            assert_eq!(
                pages.len(),
                all.len().div_ceil(limit).max(1),
                "{path} by {limit}"
            );
            let chained: Vec<Value> = pages.into_iter().flatten().collect();
            let newest_first: Vec<Value> = all.iter().rev().cloned().collect();
            assert_eq!(chained, newest_first, "{path} by {limit}");
        }
    }
    // The journal's cursor is its entries' own `seq`.
    let (first, older) = get_page(&sim, "/_signsim/requests?provider=qitech&limit=2").await;
    assert_eq!(
        older.as_deref(),
        first[1]["seq"].as_u64().map(|s| s.to_string()).as_deref()
    );
    // A cursor alone asks for a page of 50.
    let (page, _) = get_page(&sim, "/_signsim/events?before=99999999").await;
    let (all, _) = get_page(&sim, "/_signsim/events").await;
    assert_eq!(page.len(), all.len().min(50));
}

#[tokio::test]
async fn a_page_out_of_bounds_is_refused_with_what_is_accepted() {
    let sim = start().await;
    for query in [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "before=-1",
        "before=x",
    ] {
        for list in ["outbox", "events", "requests", "webhooks"] {
            let answer = sim
                .get(&sim.url(&format!("/_signsim/{list}?{query}")))
                .await;
            assert_eq!(answer.status, 400, "{list}?{query}");
            let message = answer.json()["error"].to_string();
            assert!(
                message.contains("limit") || message.contains("before"),
                "{message}"
            );
        }
    }
    assert_eq!(sim.browse(&sim.url("/_signsim?before=x")).await.status, 400);
    assert_eq!(
        sim.browse(&sim.url("/_signsim/inbox?before=x"))
            .await
            .status,
        400
    );
}

/// The resource links of a dashboard page, in its order.
fn resource_links(html: &str) -> Vec<String> {
    html.split("<tr><td><a href=\"")
        .skip(1)
        .filter_map(|row| row.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// The `href` of the link with `id` on a page, unescaped.
fn link(html: &str, id: &str) -> Option<String> {
    let after = html.split(&format!("<a id=\"{id}\" href=\"")).nth(1)?;
    Some(after.split('"').next()?.replace("&amp;", "&"))
}

#[tokio::test]
async fn the_dashboard_and_the_inbox_show_a_page_with_an_older_link() {
    let sim = start().await;
    let mut pks = Vec::new();
    for n in 0..60 {
        let pk = sim.create_request(&format!("Signer {n}")).await;
        let sent = sim
            .post_json(&sim.api(&format!("otp/{pk}")), json!({}))
            .await;
        assert_eq!(sent.status, 200, "{:?}", sent.json());
        pks.push(pk);
    }

    let first = text(&sim.browse(&sim.url("/_signsim")).await);
    let rows = resource_links(&first);
    assert_eq!(rows.len(), 50, "the first page holds the page size");
    let newest = pks.last().unwrap();
    assert!(
        rows[0].ends_with(&format!("/uanataca/default/{newest}")),
        "{rows:?}"
    );
    assert!(link(&first, "newest").is_none());
    let older = link(&first, "older").expect("an older link");
    assert!(older.contains("before="), "{older}");
    let second = text(&sim.browse(&sim.url(&older)).await);
    let more = resource_links(&second);
    assert_eq!(more.len(), 10);
    assert!(link(&second, "older").is_none(), "the last page");
    assert_eq!(link(&second, "newest").as_deref(), Some("/_signsim"));
    let mut every: Vec<String> = rows.into_iter().chain(more).collect();
    every.sort();
    every.dedup();
    assert_eq!(every.len(), 60, "each resource once");

    // The filter rides along the older link.
    let filtered = text(&sim.browse(&sim.url("/_signsim?provider=uanataca")).await);
    let older = link(&filtered, "older").expect("an older link");
    assert!(
        older.starts_with("/_signsim?provider=uanataca&before="),
        "{older}"
    );

    let inbox = text(&sim.browse(&sim.url("/_signsim/inbox")).await);
    let messages = |html: &str| html.matches("<tr><td>").count();
    assert_eq!(messages(&inbox), 50);
    let older = link(&inbox, "older").expect("an older link");
    let rest = text(&sim.browse(&sim.url(&older)).await);
    assert_eq!(messages(&rest), 10);
    assert!(link(&rest, "older").is_none());
}

#[tokio::test]
async fn the_dashboard_stays_under_100_kb_with_2000_resources() {
    let sim = start().await;
    for n in 0..2_000 {
        sim.create_request(&format!("Signer {n}")).await;
    }
    let dashboard = sim.browse(&sim.url("/_signsim")).await;
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.bytes.len() < 100 * 1024,
        "{} bytes",
        dashboard.bytes.len()
    );
    assert_eq!(resource_links(&text(&dashboard)).len(), 50);
}

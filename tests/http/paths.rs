//! A path segment that is not valid UTF-8 gets a 400 in the error shape of the surface it
//! was sent to, never axum's plain-text rejection; credentials are checked before it.

use crate::common::{answer, start, Answer, Sim};
use insta::assert_json_snapshot;

async fn get(sim: &Sim, path: &str, authorization: Option<&str>) -> Answer {
    let mut request = sim.http.get(sim.url(path));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    answer(request.send().await.unwrap()).await
}

#[tokio::test]
async fn undecodable_path_segments_answer_in_each_providers_shape() {
    let sim = start().await;
    let calls = [
        ("uanataca", "/uanataca/api/v1/request/%FF", None),
        ("signal", "/signal/sign/%FF", Some("Bearer token")),
        ("qitech", "/qitech/sign/envelope/%FF", Some("api-key")),
        ("admin", "/_signsim/qitech/files/%FF%FE", None),
    ];
    for (name, path, authorization) in calls {
        let answer = get(&sim, path, authorization).await;
        assert_eq!(answer.status, 400, "{name}: {path}");
        assert_json_snapshot!(format!("undecodable_path_{name}"), answer.shape());
    }
}

#[tokio::test]
async fn credentials_are_checked_before_the_path() {
    let sim = start().await;
    let signal = get(&sim, "/signal/sign/%FF", None).await;
    assert_eq!(signal.status, 401, "{:?}", signal.json());
    let qitech = get(&sim, "/qitech/sign/envelope/%FF", None).await;
    assert_eq!(qitech.status, 401, "{:?}", qitech.json());
}

#[tokio::test]
async fn bad_admin_queries_answer_json() {
    let sim = start().await;
    let outbox = sim.get(&sim.url("/_signsim/outbox?channel=fax")).await;
    assert_eq!(outbox.status, 400);
    assert!(outbox.json()["error"].is_string(), "{:?}", outbox.json());
}

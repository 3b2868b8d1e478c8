//! `static URL`: GET the same URL on every connection, as fast as answers come back.

use crate::client::{Conn, Target};
use crate::drive::{drive, Budget, Tally};
use std::sync::Arc;
use std::time::Instant;

pub async fn run(
    target: Target,
    connections: usize,
    budget: Budget,
) -> (Tally, std::time::Duration) {
    let budget = Arc::new(budget);
    drive(connections, 0, move |_| {
        let (target, budget) = (target.clone(), budget.clone());
        async move {
            let mut conn = Conn::new(target);
            let mut tally = Tally::new(0);
            while budget.next().is_some() {
                let started = Instant::now();
                match conn.get("").await {
                    Ok(answer) if answer.status.is_success() => {
                        tally.units.record(started.elapsed())
                    }
                    Ok(answer) => tally.fail(format!("status {}", answer.status)),
                    Err(e) => tally.fail(e),
                }
            }
            tally
        }
    })
    .await
}

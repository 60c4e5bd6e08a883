//! The live stream, `GET /api/stream` (Server-Sent Events): every `stream_interval`
//! (250 ms by default) it reads the backend and pushes what changed — `overview`
//! (figures and the scene board), `incidents`, `alerts` — so the screen is never more
//! than a fraction of a second behind the data. A keep-alive comment every 15 s.

use crate::backend::DashboardBackend;
use crate::server::Dashboard;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use screen::OverviewBody;
use serde::Serialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// The body of `GET /api/overview` and of the `overview` stream event.
pub fn overview_body(b: &dyn DashboardBackend) -> OverviewBody {
    OverviewBody {
        overview: b.overview(),
        scenes: b.scenes(),
    }
}

fn json_text(v: &impl Serialize) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// What one tick would send, by event name.
fn snapshot(b: &dyn DashboardBackend) -> [(&'static str, String); 3] {
    [
        ("overview", json_text(&overview_body(b))),
        ("incidents", json_text(&b.incidents())),
        ("alerts", json_text(&b.alerts())),
    ]
}

/// The events whose data differ from the last sent, updating `last`.
pub fn changed(b: &dyn DashboardBackend, last: &mut [String; 3]) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (i, (name, data)) in snapshot(b).into_iter().enumerate() {
        if last[i] != data {
            last[i] = data.clone();
            out.push((name, data));
        }
    }
    out
}

fn events(d: Arc<Dashboard>) -> impl Stream<Item = Result<Event, Infallible>> {
    let mut tick = tokio::time::interval(d.stream_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = (
        d,
        tick,
        [String::new(), String::new(), String::new()],
        Vec::<(&'static str, String)>::new(),
    );
    stream::unfold(state, |(d, mut tick, mut last, mut pending)| async move {
        loop {
            if let Some((name, data)) = pending.pop() {
                let ev = Event::default().event(name).data(data);
                return Some((Ok(ev), (d, tick, last, pending)));
            }
            tick.tick().await;
            pending = changed(d.backend.as_ref(), &mut last);
            pending.reverse();
        }
    })
}

pub async fn stream(State(d): State<Arc<Dashboard>>, h: HeaderMap) -> Response {
    if let Err(e) = crate::api::session(&d, &h) {
        return e.into_response();
    }
    Sse::new(events(d))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

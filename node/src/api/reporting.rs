//! The admin API's routes for the coordinator's report: activity summaries (shown, or sent
//! at once), national profiles, and the report's data.

use axum::{
    Json,
    extract::{Query, State},
};
use serde::{Deserialize, Serialize};
use tipx_config::ActivityDetail;
use tipx_protocol::{StateCode, body::Activity, day::Day};

use super::server::{Api, Failure, blocking};
use crate::{
    core::{self, ProfileView, now_ms},
    report::model::{Period, Report},
};

/// `GET /v1/activity` and `POST /v1/activity/send`: the day (default today, so far) and how
/// much to say.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActivityRequest {
    /// The day; today if absent.
    #[serde(default)]
    pub day: Option<Day>,
    /// How much to say (`report.activity`).
    #[serde(default)]
    pub detail: ActivityDetail,
}

/// The summary of the day asked for, up to now, without sending it.
pub(super) async fn show(
    State(api): State<Api>,
    Query(req): Query<ActivityRequest>,
) -> Result<Json<Activity>, Failure> {
    blocking(&api, move |n| {
        let now = now_ms();
        let day = req.day.unwrap_or(Day::of_ms(now));
        n.activity_of(day, now, req.detail)
    })
    .await
}

/// Sends the summary of the day asked for (today so far by default) to the coordinator.
pub(super) async fn send(
    State(api): State<Api>,
    Json(req): Json<ActivityRequest>,
) -> Result<Json<Activity>, Failure> {
    blocking(&api, move |n| {
        if req.detail == ActivityDetail::Off {
            return Err(core::Error::Invalid(
                "report.activity is off on this node: it sends the coordinator no summary".into(),
            ));
        }
        if n.state().is_coordinator() {
            return Err(core::Error::Invalid(
                "this is the coordinator's node: members send it their activity".into(),
            ));
        }
        if !n.reports_to_coordinator() {
            return Err(core::Error::Invalid(format!(
                "{} and OAS are not partners, so no summary can reach the coordinator: \
                 `tipx partners request OAS`, and OAS must request {} too",
                n.state(),
                n.state()
            )));
        }
        let now = now_ms();
        let day = req.day.unwrap_or(Day::of_ms(now));
        n.send_activity(day, now, req.detail)
    })
    .await
}

/// `GET /v1/profiles`: one state's, or every state's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfilesQuery {
    /// Only this state.
    #[serde(default)]
    pub state: Option<StateCode>,
}

/// The latest national profile of each state held.
pub(super) async fn profiles(
    State(api): State<Api>,
    Query(q): Query<ProfilesQuery>,
) -> Result<Json<Vec<ProfileView>>, Failure> {
    blocking(&api, move |n| n.profiles(q.state)).await
}

/// `GET /v1/report`: the period and the language of the labels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportQuery {
    /// First day.
    pub from: Day,
    /// Last day (included).
    pub to: Day,
    /// en, es, fr or pt.
    #[serde(default = "english")]
    pub lang: String,
}

fn english() -> String {
    "en".into()
}

/// The report's data.
pub(super) async fn report(
    State(api): State<Api>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Report>, Failure> {
    blocking(&api, move |n| {
        n.report(
            Period {
                from: q.from,
                to: q.to,
            },
            &q.lang,
            now_ms(),
        )
    })
    .await
}

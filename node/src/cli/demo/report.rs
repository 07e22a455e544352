//! The demo's last act: the members publish national profiles and send the coordinator
//! their day's activity, and the coordinator writes its report to the Permanent Council.
//! Only MX exchanges with OAS, so only MX's summary and profile reach it: the report shows
//! CO and PE as "no data".

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tipx_config::ActivityDetail;
use tipx_protocol::{
    Body,
    body::{
        Activity, FocalPoint, Mechanism, Palermo, PalermoStatus, Profile, Victims, YearStatistics,
    },
    day::Day,
};

use super::{DemoNode, Waited, wait_until};
use crate::{
    api::{
        reporting::{ActivityRequest, ReportQuery},
        types::{PublishRequest, Published, Status},
    },
    core::now_ms,
    report::{
        Lang,
        model::{Report, Reporting},
        render,
    },
};

/// A national profile, with figures that differ by state.
fn profile(state: &str, shelters: u64, women: u64) -> Profile {
    Profile {
        language: "es".into(),
        palermo: Palermo {
            status: Some(PalermoStatus::Ratified),
            date: "2003-03-04".parse().ok(),
        },
        laws: vec![],
        mechanism: Mechanism {
            exists: Some(true),
            name: format!("Comisión intersecretarial ({state})"),
            lead: "Ministerio del Interior".into(),
        },
        action_plan: None,
        hotline: "800 000 0000".into(),
        shelters: Some(shelters),
        identification_protocol: Some(true),
        statistics: vec![YearStatistics {
            year: 2025,
            victims: Victims {
                women: Some(women),
                girls: Some(women / 3),
                ..Default::default()
            },
            exploitation: Default::default(),
            investigations: Some(women * 2),
            prosecutions: None,
            convictions: Some(women / 5),
        }],
        focal_point: FocalPoint {
            role: "Coordinación nacional contra la trata de personas".into(),
            institution: "Ministerio del Interior".into(),
            address: "trata@example.invalid".into(),
        },
        notes: String::new(),
    }
}

/// Profiles and activity sent, then the coordinator's report written as HTML; returns its
/// path, or `None` if Ctrl-C came first.
pub(super) async fn write(
    oas: &DemoNode,
    members: &[DemoNode],
    root: &Path,
    temporary: bool,
    interrupt: &mut tokio::signal::unix::Signal,
) -> anyhow::Result<Option<(PathBuf, Report)>> {
    for (m, (shelters, women)) in members.iter().zip([(14, 61), (9, 40), (3, 12)]) {
        let req = PublishRequest {
            audience: vec![],
            tlp: None,
            handling: None,
            body: Body::Profile(profile(m.state.as_str(), shelters, women)),
        };
        let _: Published = m.client.post("/v1/records", &vec![req]).await?;
    }
    let mx = &members[0];
    let req = ActivityRequest {
        day: None,
        detail: ActivityDetail::Full,
    };
    let _: Activity = mx.client.post("/v1/activity/send", &req).await?;
    let held = async || -> anyhow::Result<bool> {
        let s: Status = oas.client.get("/v1/status", &()).await?;
        Ok(s.node.counts.activities >= 1 && s.node.counts.profiles >= 1)
    };
    match wait_until(interrupt, held).await? {
        Waited::Ready => {}
        Waited::Interrupted => return Ok(None),
        Waited::TimedOut => anyhow::bail!("MX's summary and profile never reached OAS"),
    }
    let today = Day::of_ms(now_ms());
    let (year, _, _) = today.ymd();
    let q = ReportQuery {
        from: Day::from_ymd(year, 1, 1).unwrap_or(today),
        to: today,
        lang: "en".into(),
    };
    let report: Report = oas.client.get("/v1/report", &q).await?;
    let html = render::html(&report, Lang::En)?;
    let path = if temporary {
        // The demo's directory goes when it ends; the report stays for the reader.
        let file = tempfile::Builder::new()
            .prefix("tipx-demo-report-")
            .suffix(".html")
            .tempfile()?;
        file.keep()?.1
    } else {
        root.join("oas-report.html")
    };
    std::fs::write(&path, html).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some((path, report)))
}

/// What the demo's report must show: MX reporting, CO and PE without data (neither
/// exchanges with OAS), MX's profile only.
pub(super) fn problems(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for m in &report.participation.members {
        let want = match m.state.as_str() {
            "MX" => Reporting::Summaries,
            _ => Reporting::NoConsent,
        };
        if m.reporting != want {
            // The JSON names (`summaries`, `no-consent`, …), as docs/REPORT.md gives them.
            let name = |r: Reporting| serde_json::to_string(&r).unwrap_or_default();
            out.push(format!(
                "{} is {} in the report, not {}",
                m.state,
                name(m.reporting),
                name(want)
            ));
        }
    }
    let profiles: Vec<String> = report
        .profiles
        .iter()
        .filter_map(|p| p.state.map(|s| s.to_string()))
        .collect();
    if profiles != ["MX"] {
        out.push(format!(
            "the report holds the profiles of [{}], not MX's alone",
            profiles.join(", ")
        ));
    }
    out
}

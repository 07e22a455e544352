//! From the model to the [`Document`]: what each section shows, in which words, and where
//! a figure is not known (a state whose summaries do not cover a month, a profile's missing
//! field) or changed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tipx_protocol::{
    Kind, StateCode,
    body::{Pillar, Severity},
    day::Day,
};

use super::document::{Block, Cell, Document, Section, Table, Which};
use crate::report::{
    labels::{Label, Lang, parse_month},
    model::{Coverage, Member, ProfileRow, Report, Reporting},
};

/// Lays out `report` in `lang`.
pub(super) fn document(report: &Report, lang: Lang) -> Document {
    let ctx = Context::new(report, lang);
    Document {
        lang,
        title: lang.text(Label::ReportTitle).to_string(),
        meta: ctx.meta(),
        sections: vec![
            ctx.section(
                "participation",
                1,
                Label::SectionParticipation,
                ctx.participation(),
            ),
            ctx.section("volume", 2, Label::SectionVolume, ctx.volume()),
            ctx.section("profiles", 3, Label::SectionProfiles, ctx.profiles()),
            ctx.section("annex", 4, Label::SectionAnnex, vec![ctx.annex()]),
            ctx.section("notes", 5, Label::SectionNotes, ctx.notes()),
        ],
    }
}

/// The report and what is looked up in it more than once.
struct Context<'a> {
    report: &'a Report,
    lang: Lang,
    members: HashMap<StateCode, &'a Member>,
    coverage: HashMap<StateCode, &'a Coverage>,
}

impl<'a> Context<'a> {
    fn new(report: &'a Report, lang: Lang) -> Self {
        Self {
            report,
            lang,
            members: report
                .participation
                .members
                .iter()
                .map(|m| (m.state, m))
                .collect(),
            coverage: report.notes.coverage.iter().map(|c| (c.state, c)).collect(),
        }
    }

    fn t(&self, label: Label) -> &'static str {
        self.lang.text(label)
    }

    fn n(&self, n: u64) -> Cell {
        Cell::text(self.lang.number(n))
    }

    /// "Mexico (MX)", or the code of a state that is not a member.
    fn name(&self, state: StateCode) -> String {
        match self.members.get(&state) {
            Some(m) if !m.name.trim().is_empty() => format!("{} ({state})", m.name.trim()),
            _ => state.to_string(),
        }
    }

    fn section(&self, id: &'static str, n: u8, heading: Label, blocks: Vec<Block>) -> Section {
        Section {
            id,
            heading: format!("{n}. {}", self.t(heading)),
            blocks,
        }
    }

    fn meta(&self) -> Vec<(String, String)> {
        let r = self.report;
        let generated = r
            .generated_at
            .get(..10)
            .and_then(|d| d.parse::<Day>().ok())
            .map_or_else(|| r.generated_at.clone(), |d| self.lang.date(d));
        vec![
            (
                self.t(Label::Period).into(),
                format!(
                    "{} – {}",
                    self.lang.date(r.period.from),
                    self.lang.date(r.period.to)
                ),
            ),
            (
                self.t(Label::Scope).into(),
                self.t(Label::scope(r.scope)).into(),
            ),
            (self.t(Label::PreparedBy).into(), self.name(r.by)),
            (self.t(Label::GeneratedOn).into(), generated),
        ]
    }

    fn participation(&self) -> Vec<Block> {
        let p = &self.report.participation;
        let mut members = Table::new(
            self.lang,
            Label::MemberStates,
            &[
                (Label::ColState, false),
                (Label::ColName, false),
                (Label::ColReporting, false),
                (Label::ColProfile, false),
            ],
        );
        members.rows = p
            .members
            .iter()
            .map(|m| {
                vec![
                    Cell::text(m.state.to_string()),
                    Cell::text(m.name.clone()),
                    Cell::text(self.t(Label::reporting(m.reporting))),
                    Cell::text(self.lang.yes_no(m.profile)),
                ]
            })
            .collect();
        let mut pairs = Table::new(
            self.lang,
            Label::ConsentPairs,
            &[
                (Label::ColState, false),
                (Label::ColPartner, false),
                (Label::ColSince, false),
            ],
        );
        pairs.rows = p
            .consents
            .iter()
            .map(|c| {
                vec![
                    Cell::text(c.a.to_string()),
                    Cell::text(c.b.to_string()),
                    Cell::or_unknown(c.since, |d| self.lang.date_short(d)),
                ]
            })
            .collect();
        let list = |label, states: &[StateCode]| Block::List {
            label: self.t(label).to_string(),
            items: states.iter().map(|&s| self.name(s)).collect(),
        };
        let mut blocks = vec![Block::Table(members), Block::Chart(Which::Consent)];
        if !p.members.is_empty() || !p.consents.is_empty() {
            blocks.push(Block::Note(self.t(Label::ChartConsentNote).to_string()));
        }
        blocks.extend([
            Block::Table(pairs),
            list(Label::Joined, &p.joined),
            list(Label::Left, &p.left),
            list(Label::NoActivity, &p.no_activity),
            list(Label::NoProfile, &p.no_profile),
        ]);
        blocks
    }

    fn volume(&self) -> Vec<Block> {
        vec![
            Block::Chart(Which::Monthly),
            Block::Table(self.monthly()),
            Block::Table(self.state_totals()),
            Block::Chart(Which::Pillars),
            Block::Table(self.pillars()),
            Block::Chart(Which::Severities),
            Block::Table(self.severities()),
            Block::Table(self.counts(
                Label::Categories,
                Label::ColCategory,
                &self.report.volume.categories,
                |c| c.to_string(),
            )),
            Block::Table(self.counts(
                Label::Languages,
                Label::ColLanguage,
                &self.report.volume.languages,
                |l| self.lang.language_name(l),
            )),
        ]
    }

    /// States × months: records published (all kinds), a dash where the state's
    /// summaries do not cover the month.
    fn monthly(&self) -> Table {
        let v = &self.report.volume;
        let mut months: BTreeSet<&str> = v.months.iter().map(String::as_str).collect();
        months.extend(v.by_month.iter().map(|c| c.month.as_str()));
        let mut counts: HashMap<(StateCode, &str), u64> = HashMap::new();
        for c in &v.by_month {
            let n = counts.entry((c.state, c.month.as_str())).or_default();
            *n = n.saturating_add(c.count);
        }
        let mut states: BTreeSet<StateCode> = self.members.keys().copied().collect();
        states.extend(v.by_month.iter().map(|c| c.state));
        let mut table = Table::new(self.lang, Label::ChartMonthly, &[(Label::ColState, false)]);
        table
            .columns
            .extend(months.iter().map(|m| self.lang.month_key(m)));
        table.columns.push(self.t(Label::Total).to_string());
        table
            .numeric
            .extend(std::iter::repeat_n(true, months.len() + 1));
        let mut per_month = vec![0u64; months.len()];
        for state in states {
            let mut row = vec![Cell::text(state.to_string())];
            let (mut sum, mut any_known) = (0u64, false);
            for (i, month) in months.iter().enumerate() {
                let n = counts.get(&(state, *month)).copied();
                if n.is_none() && !self.month_known(state, month) {
                    row.push(Cell::unknown());
                    continue;
                }
                let n = n.unwrap_or(0);
                any_known = true;
                sum = sum.saturating_add(n);
                per_month[i] = per_month[i].saturating_add(n);
                row.push(self.n(n));
            }
            row.push(if any_known {
                self.n(sum)
            } else {
                Cell::unknown()
            });
            table.rows.push(row);
        }
        if table.rows.is_empty() {
            return table;
        }
        let mut total = vec![Cell::text(self.t(Label::Total))];
        total.extend(per_month.iter().map(|&n| self.n(n)));
        total.push(self.n(per_month.iter().fold(0u64, |a, &n| a.saturating_add(n))));
        table.total = Some(total);
        table
    }

    /// Whether `state`'s activity in `month` is known: its summaries cover part of the
    /// month, or (with no coverage listed) it is a member whose activity is seen.
    fn month_known(&self, state: StateCode, month: &str) -> bool {
        match self.coverage.get(&state) {
            Some(c) => match (c.first, c.last, parse_month(month)) {
                (Some(first), Some(last), Some(_)) => {
                    first.month().as_str() <= month && month <= last.month().as_str()
                }
                _ => c.days > 0,
            },
            None => !matches!(
                self.members.get(&state).map(|m| m.reporting),
                Some(Reporting::NoData | Reporting::NoConsent)
            ),
        }
    }

    fn state_totals(&self) -> Table {
        let mut table = Table::new(
            self.lang,
            Label::StateTotals,
            &[
                (Label::ColState, false),
                (Label::ColPracticesPublished, true),
                (Label::ColAlertsPublished, true),
                (Label::ColReceived, true),
                (Label::ColRetractions, true),
                (Label::ColErasures, true),
                (Label::ColRejections, true),
                (Label::ColTrafficMb, true),
            ],
        );
        table.rows = self
            .report
            .volume
            .states
            .iter()
            .map(|s| {
                let published = |k: Kind| s.published.get(&k).copied().unwrap_or(0);
                let received = s.received.values().fold(0u64, |a, &n| a.saturating_add(n));
                vec![
                    Cell::or_unknown(s.state, |c| c.to_string()),
                    self.n(published(Kind::BestPractice)),
                    self.n(published(Kind::Alert)),
                    self.n(received),
                    self.n(s.retractions),
                    self.n(s.erasures),
                    self.n(s.rejections),
                    Cell::text(self.lang.decimal(s.sync_bytes as f64 / 1e6)),
                ]
            })
            .collect();
        table
    }

    fn pillars(&self) -> Table {
        let mut table = Table::new(
            self.lang,
            Label::ChartPillars,
            &[(Label::ColPillar, false), (Label::ColCount, true)],
        );
        table.rows = Pillar::ALL
            .iter()
            .map(|&p| {
                let n = self.report.volume.pillars.get(&p).copied().unwrap_or(0);
                vec![Cell::text(self.t(Label::pillar(p))), self.n(n)]
            })
            .collect();
        // One practice may serve several pillars: no total.
        table
    }

    fn severities(&self) -> Table {
        let mut table = Table::new(
            self.lang,
            Label::ChartSeverities,
            &[(Label::ColSeverity, false), (Label::ColCount, true)],
        );
        let count = |s| self.report.volume.severities.get(&s).copied().unwrap_or(0);
        table.rows = Severity::ALL
            .iter()
            .map(|&s| vec![Cell::text(self.t(Label::severity(s))), self.n(count(s))])
            .collect();
        let total = Severity::ALL
            .iter()
            .fold(0u64, |a, &s| a.saturating_add(count(s)));
        table.total = Some(vec![Cell::text(self.t(Label::Total)), self.n(total)]);
        table
    }

    /// A table of counts by free-text key, largest first.
    fn counts(
        &self,
        caption: Label,
        column: Label,
        counts: &BTreeMap<String, u64>,
        show: impl Fn(&str) -> String,
    ) -> Table {
        let mut table = Table::new(
            self.lang,
            caption,
            &[(column, false), (Label::ColCount, true)],
        );
        let mut sorted: Vec<_> = counts.iter().collect();
        sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        table.rows = sorted
            .into_iter()
            .map(|(k, &n)| vec![Cell::text(show(k)), self.n(n)])
            .collect();
        table
    }

    /// Two tables, so that each fits a page's width: the framework, and the statistics.
    fn profiles(&self) -> Vec<Block> {
        let mut framework = Table::new(
            self.lang,
            Label::ProfilesFramework,
            &[
                (Label::ColState, false),
                (Label::ColUpdated, false),
                (Label::ColPalermo, false),
                (Label::ColLaws, true),
                (Label::ColMechanism, false),
                (Label::ColActionPlan, false),
                (Label::ColHotline, false),
                (Label::ColShelters, true),
                (Label::ColIdentification, false),
            ],
        );
        let mut statistics = Table::new(
            self.lang,
            Label::ProfilesStatistics,
            &[
                (Label::ColState, false),
                (Label::ColYear, true),
                (Label::ColVictims, true),
                (Label::ColInvestigations, true),
                (Label::ColProsecutions, true),
                (Label::ColConvictions, true),
            ],
        );
        for p in &self.report.profiles {
            let (f, s) = self.profile(p);
            framework.rows.push(f);
            statistics.rows.push(s);
        }
        vec![Block::Table(framework), Block::Table(statistics)]
    }

    /// A profile's cells in the framework table and in the statistics table.
    fn profile(&self, p: &ProfileRow) -> (Vec<Cell>, Vec<Cell>) {
        let changed = |fields: &[&str]| p.changed.iter().any(|c| fields.contains(&c.as_str()));
        let yes_no = |b: Option<bool>| Cell::or_unknown(b, |b| self.lang.yes_no(b).to_string());
        let number = |n: Option<u64>| Cell::or_unknown(n, |n| self.lang.number(n));
        let state = Cell::or_unknown(p.state, |s| s.to_string());
        let palermo = match (p.palermo, p.palermo_date) {
            (None, None) => Cell::unknown(),
            (status, date) => {
                let status = status.map_or(self.t(Label::Unknown), |s| self.t(Label::palermo(s)));
                Cell::text(match date {
                    Some(d) => format!("{status}, {}", self.lang.date_short(d)),
                    None => status.to_string(),
                })
            }
        };
        let framework = vec![
            state.clone(),
            Cell::or_unknown(p.updated, |d| self.lang.date_short(d))
                .changed_if(changed(&["updated"])),
            palermo.changed_if(changed(&["palermo", "palermo_date"])),
            self.n(p.laws).changed_if(changed(&["laws"])),
            yes_no(p.mechanism).changed_if(changed(&["mechanism"])),
            Cell::or_unknown(p.action_plan, |(a, b)| format!("{a}–{b}"))
                .changed_if(changed(&["action_plan"])),
            Cell::text(self.lang.yes_no(p.hotline)).changed_if(changed(&["hotline"])),
            number(p.shelters).changed_if(changed(&["shelters"])),
            yes_no(p.identification_protocol).changed_if(changed(&["identification_protocol"])),
        ];
        let statistics = vec![
            state,
            Cell::or_unknown(p.year, |y| y.to_string()).changed_if(changed(&["year"])),
            number(p.victims).changed_if(changed(&["victims"])),
            number(p.investigations).changed_if(changed(&["investigations"])),
            number(p.prosecutions).changed_if(changed(&["prosecutions"])),
            number(p.convictions).changed_if(changed(&["convictions"])),
        ];
        (framework, statistics)
    }

    fn annex(&self) -> Block {
        let mut table = Table::new(
            self.lang,
            Label::AnnexTable,
            &[
                (Label::ColPublished, false),
                (Label::ColState, false),
                (Label::ColTitle, false),
                (Label::ColPillars, false),
                (Label::ColLanguage, false),
            ],
        );
        table.rows = self
            .report
            .annex
            .iter()
            .map(|a| {
                let pillars: Vec<&str> = a
                    .pillars
                    .iter()
                    .map(|&p| self.t(Label::pillar(p)))
                    .collect();
                vec![
                    Cell::text(self.lang.date_short(a.published)),
                    Cell::text(a.state.to_string()),
                    Cell::text(a.title.clone()),
                    Cell::text(pillars.join(", ")),
                    Cell::text(self.lang.language_name(&a.language)),
                ]
            })
            .collect();
        Block::Table(table)
    }

    fn notes(&self) -> Vec<Block> {
        let mut coverage = Table::new(
            self.lang,
            Label::Coverage,
            &[
                (Label::ColState, false),
                (Label::ColDays, true),
                (Label::ColFirst, false),
                (Label::ColLast, false),
                (Label::ColNodes, true),
                (Label::ColTotalsOnly, false),
            ],
        );
        coverage.rows = self
            .report
            .notes
            .coverage
            .iter()
            .map(|c| {
                vec![
                    Cell::text(c.state.to_string()),
                    self.n(u64::from(c.days)),
                    Cell::or_unknown(c.first, |d| self.lang.date_short(d)),
                    Cell::or_unknown(c.last, |d| self.lang.date_short(d)),
                    self.n(u64::from(c.nodes)),
                    Cell::text(self.lang.yes_no(c.totals_only)),
                ]
            })
            .collect();
        let notices = self
            .report
            .notes
            .notices
            .iter()
            .map(|n| self.lang.notice(n, |s| self.name(s)))
            .collect();
        vec![
            Block::Table(coverage),
            Block::Paragraphs {
                heading: self.t(Label::Notices).to_string(),
                items: notices,
            },
        ]
    }
}

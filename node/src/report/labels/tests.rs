use tipx_protocol::{StateCode, day::Day};

use super::*;
use crate::report::model::Notice;

fn mx() -> StateCode {
    "MX".parse().unwrap()
}

/// One notice of each kind: the `match` below fails to compile when a kind is added.
fn every_notice() -> Vec<Notice> {
    let all = vec![
        Notice::CountsOnly,
        Notice::NoConsent { state: mx() },
        Notice::SeveralReportingNodes {
            state: mx(),
            nodes: 2,
        },
        Notice::TotalsOnly { state: mx() },
        Notice::Incomplete {
            state: mx(),
            days: 12_345,
        },
    ];
    for n in &all {
        match n {
            Notice::CountsOnly
            | Notice::NoConsent { .. }
            | Notice::SeveralReportingNodes { .. }
            | Notice::TotalsOnly { .. }
            | Notice::Incomplete { .. } => {}
        }
    }
    all
}

#[test]
fn every_label_has_a_text_in_every_language_and_is_translated() {
    for lang in Lang::ALL {
        let mut same_as_english = Vec::new();
        for &label in Label::ALL {
            let text = lang.text(label);
            assert!(!text.trim().is_empty(), "{label:?} is empty in {lang}");
            assert_eq!(text, text.trim(), "{label:?} in {lang} has stray spaces");
            if lang != Lang::En && text == Lang::En.text(label) {
                same_as_english.push(label);
            }
        }
        // A few words are the same in both languages ("Total", "Protection"); a table
        // copied from English is not a translation.
        assert!(
            same_as_english.len() * 10 <= Label::ALL.len(),
            "{lang}: {} of {} labels are the English text: {same_as_english:?}",
            same_as_english.len(),
            Label::ALL.len()
        );
    }
}

#[test]
fn every_name_of_the_model_has_a_label() {
    use tipx_protocol::{
        Kind,
        body::{PalermoStatus, Pillar, Severity},
    };
    let names: Vec<Label> = Kind::ALL
        .iter()
        .map(|&k| Label::kind(k))
        .chain(Pillar::ALL.iter().map(|&p| Label::pillar(p)))
        .chain(Severity::ALL.iter().map(|&s| Label::severity(s)))
        .chain(PalermoStatus::ALL.iter().map(|&s| Label::palermo(s)))
        .collect();
    for lang in Lang::ALL {
        let mut texts: Vec<_> = names.iter().map(|&l| lang.text(l)).collect();
        texts.sort();
        texts.dedup();
        // Within one enum, two values never read the same.
        assert!(texts.len() >= names.len() - 2, "{lang}: {texts:?}");
    }
}

#[test]
fn every_notice_is_a_sentence_in_every_language() {
    for lang in Lang::ALL {
        for n in every_notice() {
            let text = lang.notice(&n, |s| format!("Mexico ({s})"));
            assert!(text.ends_with('.'), "{lang}: {text}");
            if n != Notice::CountsOnly {
                assert!(text.contains("Mexico (MX)"), "{lang}: {text}");
            }
            if lang != Lang::En {
                assert_ne!(text, Lang::En.notice(&n, |s| format!("Mexico ({s})")));
            }
            if let Notice::Incomplete { .. } = n {
                assert!(text.contains(&lang.number(12_345)), "{lang}: {text}");
            }
        }
    }
    let one_day = Notice::Incomplete {
        state: mx(),
        days: 1,
    };
    assert!(
        Lang::En
            .notice(&one_day, |s| s.to_string())
            .contains("1 day ")
    );
    assert!(
        Lang::Fr
            .notice(&one_day, |s| s.to_string())
            .contains("1 jour ")
    );
}

#[test]
fn numbers_are_grouped_as_each_language_writes_them() {
    assert_eq!(Lang::En.number(12_345), "12,345");
    assert_eq!(Lang::Es.number(12_345), "12.345");
    assert_eq!(Lang::Fr.number(12_345), "12\u{202F}345");
    assert_eq!(Lang::Pt.number(12_345), "12.345");
    assert_eq!(Lang::En.number(1_234_567), "1,234,567");
    assert_eq!(Lang::Es.number(1234), "1234");
    assert_eq!(Lang::Pt.number(1234), "1.234");
    for lang in Lang::ALL {
        assert_eq!(lang.number(0), "0");
        assert_eq!(lang.number(999), "999");
    }
    assert_eq!(Lang::En.decimal(1234.56), "1,234.6");
    assert_eq!(Lang::Fr.decimal(0.04), "0,0");
    assert_eq!(Lang::Pt.decimal(12.25), "12,3");
}

#[test]
fn dates_are_written_out_in_each_language() {
    let d: Day = "2026-12-02".parse().unwrap();
    assert_eq!(Lang::En.date(d), "2 December 2026");
    assert_eq!(Lang::Es.date(d), "2 de diciembre de 2026");
    assert_eq!(Lang::Fr.date(d), "2 décembre 2026");
    assert_eq!(Lang::Pt.date(d), "2 de dezembro de 2026");
    let first: Day = "2026-03-01".parse().unwrap();
    assert_eq!(Lang::Fr.date(first), "1er mars 2026");
    assert_eq!(Lang::Pt.date(first), "1º de março de 2026");
    assert_eq!(Lang::Es.month(2026, 1), "enero de 2026");
    assert_eq!(Lang::En.date_short(d), "2 Dec 2026");
    assert_eq!(Lang::Es.date_short(d), "2 dic. 2026");
    assert_eq!(Lang::Fr.date_short(first), "1er mars 2026");
    assert_eq!(Lang::En.month_key("2026-09"), "Sep 2026");
    assert_eq!(Lang::Fr.month_key("2026-02"), "févr. 2026");
    assert_eq!(Lang::Pt.month_key("not-a-month"), "not-a-month");
    for lang in Lang::ALL {
        for m in 1..=12 {
            assert!(!lang.month_name(m).is_empty());
            assert!(!lang.month_abbreviation(m).is_empty());
        }
    }
}

#[test]
fn languages_are_read_from_their_codes_and_others_are_named() {
    for lang in Lang::ALL {
        assert_eq!(lang.code().parse::<Lang>(), Ok(lang));
    }
    assert_eq!(" PT ".parse::<Lang>(), Ok(Lang::Pt));
    let err = "de".parse::<Lang>().unwrap_err().to_string();
    assert!(
        err.contains("`de`") && err.contains("en, es, fr or pt"),
        "{err}"
    );
    assert_eq!(Lang::Es.language_name("fr"), "francés");
    assert_eq!(Lang::Es.language_name("ht"), "ht");
}

//! Numbers as a person reads them: durations (`2 h 5 min`), sizes (`1.4 MiB`), days from
//! now (`in 119 days`), short peer ids and cut text. Pure functions, so the tables stay
//! simple and each rule has a test.

/// A duration in the two largest units that matter: `45 s`, `3 min`, `2 h 5 min`,
/// `3 d 4 h`.
pub(crate) fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A size in bytes with a binary unit: `512 B`, `1.4 KiB`, `1.4 MiB`, `2.0 GiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// How far a day lies from `now_ms`, in whole calendar days: `today`, `tomorrow`,
/// `in 119 days`, `yesterday`, `3 days ago`.
pub(crate) fn days_from_now(at_ms: u64, now_ms: u64) -> String {
    let day = |ms: u64| (ms / 86_400_000) as i64;
    match day(at_ms) - day(now_ms) {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "yesterday".into(),
        n if n > 0 => format!("in {n} days"),
        n => format!("{} days ago", -n),
    }
}

/// An alert's validity: `valid until 2027-03-31 (in 119 days)`, `expired on 2026-01-01
/// (3 days ago)`, or `no expiry`.
pub(crate) fn validity(valid_until_ms: Option<u64>, now_ms: u64) -> String {
    match valid_until_ms {
        None => "no expiry".into(),
        Some(t) if t > now_ms => format!(
            "valid until {} ({})",
            crate::time::date(t),
            days_from_now(t, now_ms)
        ),
        Some(t) => format!(
            "expired on {} ({})",
            crate::time::date(t),
            days_from_now(t, now_ms)
        ),
    }
}

/// Characters of a peer id kept by [`short_peer`]: every id starts `12D3KooW`, so the end
/// is what tells two apart.
const SHORT_PEER_CHARS: usize = 8;

/// The end of a peer id, `…Xy12ab34`: enough to tell the peers of a table apart and to
/// find the full id in `--json`.
pub(crate) fn short_peer(peer_id: &str) -> String {
    let n = peer_id.chars().count();
    if n <= SHORT_PEER_CHARS + 1 {
        return peer_id.to_string();
    }
    format!(
        "…{}",
        peer_id
            .chars()
            .skip(n - SHORT_PEER_CHARS)
            .collect::<String>()
    )
}

/// `s` cut to `n` characters, with `…` for what was left off.
pub(crate) fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// A list in words, or `-` when empty.
pub(crate) fn list<T: std::fmt::Display>(items: &[T]) -> String {
    if items.is_empty() {
        return "-".into();
    }
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1 alert`, `2 alerts`.
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `1,000,000`: a count a person reads at a glance.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(412_000), "412,000");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn durations_use_the_two_largest_units() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(180), "3 min");
        assert_eq!(duration(7200), "2 h");
        assert_eq!(duration(2 * 3600 + 5 * 60 + 9), "2 h 5 min");
        assert_eq!(duration(3 * 86_400 + 4 * 3600 + 59), "3 d 4 h");
        assert_eq!(duration(86_400 + 30), "1 d");
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KiB");
        assert_eq!(bytes(1_468_006), "1.4 MiB");
        assert_eq!(bytes(2 << 30), "2.0 GiB");
    }

    #[test]
    fn days_count_calendar_days() {
        let now = crate::time::parse("2026-12-02T10:00:00Z", 0).unwrap();
        let until = crate::time::parse("2027-03-31", 0).unwrap();
        assert_eq!(
            validity(Some(until), now),
            "valid until 2027-03-31 (in 119 days)"
        );
        assert_eq!(
            validity(Some(now - 3 * DAY), now),
            "expired on 2026-11-29 (3 days ago)"
        );
        assert_eq!(validity(None, now), "no expiry");
        assert_eq!(days_from_now(now + DAY, now), "tomorrow");
        assert_eq!(days_from_now(now + 1000, now), "today");
    }

    #[test]
    fn short_peer_ids_keep_the_end() {
        assert_eq!(short_peer("12D3KooWAbcdefghijklmnop12345678"), "…12345678");
        assert_eq!(short_peer("short"), "short");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(list::<String>(&[]), "-");
        assert_eq!(count(1, "alert", "alerts"), "1 alert");
    }
}

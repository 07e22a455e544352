//! Dates on the command line and in import files: `2026-11-30`, `2026-11-30T14:00:00Z`,
//! milliseconds, or a span from now (`36h`, `7d`): back from now for a filter (`--since`),
//! forward from now for an expiry (`--valid-until`). Written out as `2026-11-30 14:00:05Z`.

use tipx_protocol::day::{civil_from_days, days_from_civil};

/// Parses a time in the past or a span back from `now_ms` (`7d` = seven days ago).
pub fn parse(s: &str, now_ms: u64) -> Result<u64, String> {
    match span_ms(s) {
        Some(span) => Ok(now_ms.saturating_sub(span)),
        None => absolute(s),
    }
}

/// Parses a time that must lie ahead of `now_ms`, such as an alert's expiry: a span counts
/// forward (`30d` = thirty days from now) and a date already past is refused.
pub fn parse_future(s: &str, now_ms: u64) -> Result<u64, String> {
    if let Some(span) = span_ms(s) {
        if span == 0 {
            return Err(format!("`{}` is now, not in the future", s.trim()));
        }
        return Ok(now_ms.saturating_add(span));
    }
    let at = absolute(s)?;
    if at <= now_ms {
        return Err(format!(
            "`{}` is in the past ({}); give a later date, or a span such as 30d",
            s.trim(),
            format(at)
        ));
    }
    Ok(at)
}

/// A span such as `36h` or `7d` (an optional leading `+` is allowed), in milliseconds.
fn span_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    let (n, unit) = if let Some(n) = s.strip_suffix('d') {
        (n, 86_400_000u64)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        return None;
    };
    n.parse::<u64>().ok()?.checked_mul(unit)
}

/// A date, a date and time (UTC), or milliseconds since the epoch.
fn absolute(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let bad = || format!("`{s}` is not a time: use 2026-11-30, 2026-11-30T14:00:00Z, 36h or 7d");
    if s.len() > 10 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad());
    }
    let (date, time) = s.split_once(['T', ' ']).unwrap_or((s, "00:00:00"));
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [y, m, day] = d[..] else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let time = time.trim_end_matches('Z');
    let t: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let (hh, mm, ss) = (
        t.first().copied().unwrap_or(0),
        t.get(1).copied().unwrap_or(0),
        t.get(2).copied().unwrap_or(0),
    );
    // In i128, which fields that each fit an i64 cannot overflow: a time too far off for a
    // u64 of milliseconds is refused below, not an overflow panic (found by the `import`
    // fuzz target: `2026-12-31T3183333333333:00:00Z` overflowed an i64 of milliseconds).
    let days = days_from_civil(y.into(), m.into(), day.into());
    let secs = days * 86_400 + i128::from(hh) * 3600 + i128::from(mm) * 60 + i128::from(ss);
    u64::try_from(secs * 1000).map_err(|_| bad())
}

/// Formats ms since the epoch as `YYYY-MM-DD HH:MM:SSZ`.
pub fn format(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Formats ms since the epoch as an RFC 3339 timestamp: `2026-11-30T14:00:05.123Z`.
pub fn rfc3339(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Formats ms since the epoch as a date alone: `2026-11-30`.
pub fn date(ms: u64) -> String {
    let (y, m, d) = civil_from_days((ms / 1000) as i64 / 86_400);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        let ms = parse("2026-11-30T14:05:00Z", 0).unwrap();
        assert_eq!(format(ms), "2026-11-30 14:05:00Z");
        assert_eq!(rfc3339(ms + 7), "2026-11-30T14:05:00.007Z");
        assert_eq!(date(ms), "2026-11-30");
        assert_eq!(parse("1970-01-02", 0).unwrap(), 86_400_000);
    }

    #[test]
    fn spans_count_back_from_now() {
        assert_eq!(parse("2d", 3 * 86_400_000).unwrap(), 86_400_000);
        assert!(parse("yesterday", 0).is_err());
    }

    #[test]
    fn an_expiry_lies_ahead() {
        let now = parse("2026-12-02T10:00:00Z", 0).unwrap();
        assert_eq!(parse_future("30d", now).unwrap(), now + 30 * 86_400_000);
        assert_eq!(parse_future("+36h", now).unwrap(), now + 36 * 3_600_000);
        assert_eq!(
            parse_future("2027-03-31", now).unwrap(),
            parse("2027-03-31", 0).unwrap()
        );
        let past = parse_future("2020-01-01", now).unwrap_err();
        assert!(past.contains("is in the past"), "{past}");
        assert!(parse_future("0d", now).is_err());
    }

    #[test]
    fn a_time_too_far_off_is_refused_not_an_overflow() {
        for far in [
            "9223372036854775807-12-31",
            "600000000-01-01",
            "2026-01-01T00:00:9223372036854775807",
            "2026-01-01T9223372036854775807",
        ] {
            let e = parse(far, 0).unwrap_err();
            assert!(e.contains("is not a time"), "{far}: {e}");
        }
        // The fuzzer's find: its milliseconds overflowed an i64 but fit a u64.
        let found = parse("2026-12-31T3183333333333:00:00Z", 0).unwrap();
        assert!(found > u64::try_from(i64::MAX).unwrap(), "{found}");
        assert!(
            parse("2026-12-31T99:00:00Z", 0).is_ok(),
            "hours past 23 still roll over"
        );
    }
}

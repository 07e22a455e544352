//! STIX patterns for indicator values, both ways: the comparisons tipx writes
//! (`[email-addr:value = '…']`), and the simple ones other tools write, read back.

use tipx_protocol::body::IndicatorType;

/// The object path a value of type `kind` is compared at, if it has a cyber-observable.
pub(super) fn path_of(kind: IndicatorType) -> Option<&'static str> {
    match kind {
        IndicatorType::Email => Some("email-addr:value"),
        IndicatorType::Url => Some("url:value"),
        IndicatorType::Domain => Some("domain-name:value"),
        IndicatorType::SocialAccount => Some("user-account:account_login"),
        _ => None,
    }
}

/// The indicator type of a value compared at `path`, if tipx has one for it.
fn kind_of(path: &str) -> Option<IndicatorType> {
    match path {
        "email-addr:value"
        | "email-message:from_ref.value"
        | "email-message:to_refs[*].value"
        | "email-message:sender_ref.value" => Some(IndicatorType::Email),
        "url:value" => Some(IndicatorType::Url),
        "domain-name:value" => Some(IndicatorType::Domain),
        "user-account:account_login" | "user-account:user_id" | "user-account:display_name" => {
            Some(IndicatorType::SocialAccount)
        }
        _ => None,
    }
}

/// The pattern comparing `path` to `value`.
pub(super) fn pattern(path: &str, value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('\'', "\\'");
    format!("[{path} = '{escaped}']")
}

/// The equality comparisons in `pattern` (`path = 'value'`, joined by AND/OR, in one or
/// more observation brackets): each as a tipx type (None: no tipx type for its path), the
/// path and the value. Other operators are not read.
pub(super) fn comparisons(pattern: &str) -> Vec<(Option<IndicatorType>, String, String)> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(eq) = find_eq(rest) {
        let (before, after) = rest.split_at(eq);
        let path = before
            .rsplit(|c: char| c == '[' || c == '(' || c.is_whitespace())
            .find(|s| !s.is_empty())
            .unwrap_or("")
            .to_string();
        let after = after[1..].trim_start();
        let Some(quoted) = after.strip_prefix('\'') else {
            rest = after;
            continue;
        };
        let (value, used) = unquote(quoted);
        out.push((kind_of(&path), path, value));
        rest = &quoted[used..];
    }
    out
}

/// The byte offset of the next `=` that is an equality (not part of `!=`, `<=`, `>=`).
fn find_eq(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut in_quote = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_quote => i += 1,
            b'\'' => in_quote = !in_quote,
            b'=' if !in_quote && (i == 0 || !matches!(bytes[i - 1], b'!' | b'<' | b'>')) => {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The text of a quoted string whose opening quote is already consumed, and how many
/// bytes of `s` it took (the closing quote included).
fn unquote(s: &str) -> (String, usize) {
    let mut value = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    value.push(next);
                }
            }
            '\'' => return (value, i + 1),
            c => value.push(c),
        }
    }
    (value, s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_pattern_reads_back_with_quotes_and_backslashes() {
        let value = r"o'brien\jobs@example.org";
        let p = pattern("email-addr:value", value);
        assert_eq!(
            comparisons(&p),
            vec![(
                Some(IndicatorType::Email),
                "email-addr:value".into(),
                value.into()
            )]
        );
    }

    #[test]
    fn several_comparisons_and_unknown_paths_are_read() {
        let p = "[url:value = 'http://a.example/x' OR domain-name:value='b.example'] AND \
                 [ipv4-addr:value = '198.51.100.7'] AND [file:size >= '10']";
        let got = comparisons(p);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, Some(IndicatorType::Url));
        assert_eq!(got[1].2, "b.example");
        assert_eq!(
            got[2],
            (None, "ipv4-addr:value".into(), "198.51.100.7".into())
        );
    }
}

//! Cells safe to open in a spreadsheet, for every CSV this node writes (`tipx export
//! --format csv`, `tipx report --format csv`).

/// A cell a spreadsheet would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return) gets a single quote in front, as OWASP's advice on CSV injection
/// says; every other cell is left as it is.
pub fn escape(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn formula_like_cells_are_quoted_and_others_kept() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(escape(bad.into()), format!("'{bad}"));
        }
        for good in ["", "plain", "a=b", "phone:+52", "'quoted"] {
            assert_eq!(escape(good.into()), good);
        }
    }
}

//! Standard output of the commands. A reader that goes away early (`tipx records list |
//! head -1`) ends the command quietly, as it ends any Unix filter, instead of a panic:
//! every command prints through [`outln!`], never `println!`.

/// `println!` for the commands: on a closed pipe the process exits quietly with status 0;
/// any other write error is reported in words and exits with status 1.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::cli::output::failed(e);
        }
    }};
}

/// Ends the process after a failed write to standard output.
pub(crate) fn failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "error: cannot write to standard output: {e}"
    );
    std::process::exit(1);
}

/// A progress bar of `len` steps on standard error, drawn with `template` (indicatif's).
pub(crate) fn bar(len: u64, template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("valid template"));
    bar
}

//! Running a command to completion under a deadline, and what it did.

use std::{
    fmt,
    io::Read,
    process::{Child, Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

/// How long one CLI command may run: a bulk import of a few thousand records in a debug
/// build takes seconds, not minutes.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(120);
/// Pause between two polls of a process or of `tipx status`.
pub(crate) const POLL: Duration = Duration::from_millis(25);

/// Runs `cmd` to completion, killing it (and failing the test) after `deadline`.
#[track_caller]
pub fn run_with_deadline(mut cmd: Command, deadline: Duration) -> Outcome {
    let command = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command}: {e}"));
    let drain = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as _));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as _));
    let status = match wait_deadline(&mut child, deadline) {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{command} did not finish within {deadline:?}\nstdout:\n{}\nstderr:\n{}",
                out.join().unwrap_or_default(),
                err.join().unwrap_or_default()
            );
        }
    };
    Outcome {
        command,
        status,
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
    }
}

/// Waits for `child` to exit, at most `deadline`; `None` if it still runs.
pub(crate) fn wait_deadline(child: &mut Child, deadline: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("waiting for a child process") {
            return Some(s);
        }
        if start.elapsed() >= deadline {
            return None;
        }
        thread::sleep(POLL);
    }
}

/// What a finished command did.
#[derive(Debug)]
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n  exited: {}\n  stdout:\n{}\n  stderr:\n{}",
            self.command, self.status, self.stdout, self.stderr
        )
    }
}

impl Outcome {
    /// Whether it exited with status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Asserts it succeeded; returns it.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(self.success(), "expected success:\n{self}");
        self
    }

    /// Asserts it failed (non-zero exit) and that stderr contains every one of `needles`
    /// (case-insensitive): the message says what to fix. Returns it.
    #[track_caller]
    pub fn fails_with(self, needles: &[&str]) -> Self {
        assert!(!self.success(), "expected a failure:\n{self}");
        let stderr = self.stderr.to_lowercase();
        for n in needles {
            assert!(
                stderr.contains(&n.to_lowercase()),
                "stderr does not mention {n:?}:\n{self}"
            );
        }
        self
    }

    /// Stdout parsed as JSON, after asserting success.
    #[track_caller]
    pub fn json(self) -> serde_json::Value {
        let this = self.ok();
        serde_json::from_str(&this.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{this}"))
    }
}

//! Logging through `tracing`: to stderr, and to daily-rotated files under the XDG state dir.
//!
//! Every line passes through [`crate::config::redact_urls`] on its way out, whoever logged it
//! (sqlx included): a URL's password never reaches the terminal or a log file.

use std::io::Write;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogLevel, redact_urls};

/// How many daily log files are kept before the oldest is deleted.
pub const KEPT_LOG_FILES: usize = 14;

/// Keeps the file writer alive; dropping it flushes the log file.
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard(#[allow(dead_code)] Option<WorkerGuard>);

/// Could not set up logging (for example, the log directory is not writable).
#[derive(Debug, thiserror::Error)]
#[error("cannot log to {dir}: {message}")]
pub struct LoggingError {
    pub dir: String,
    pub message: String,
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `level`.
///
/// Call once, early in `main`; later calls (as in tests) leave the first subscriber in place.
pub fn init(level: LogLevel, file_dir: Option<&Path>) -> Result<LogGuard, LoggingError> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{},sqlx=warn", level.as_str())));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(Redacting(std::io::stderr))
        .with_target(false);
    let (file_layer, guard) = match file_dir {
        Some(dir) => {
            let error = |message: String| LoggingError {
                dir: dir.display().to_string(),
                message,
            };
            std::fs::create_dir_all(dir).map_err(|e| error(e.to_string()))?;
            let appender = Builder::new()
                .rotation(Rotation::DAILY)
                .filename_prefix("tickwork")
                .filename_suffix("log")
                .max_log_files(KEPT_LOG_FILES)
                .build(dir)
                .map_err(|e| error(e.to_string()))?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(Redacting(writer))
                .with_ansi(false);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    // A second init (tests, embedding) keeps the first subscriber; that is not an error.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file_layer)
        .try_init();
    Ok(LogGuard(guard))
}

/// A [`MakeWriter`] whose writers redact URLs (see [`redact_urls`]).
#[derive(Debug, Clone, Copy)]
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }
}

/// Writes through, after redacting any URL in what it is given. `tracing` hands over each
/// event whole in one `write_all`, so a URL is never split between two calls.
#[derive(Debug)]
pub struct RedactingWriter<W>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !buf.windows(3).any(|w| w == b"://") {
            return self.0.write(buf);
        }
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact_urls(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacting_writer_hides_url_passwords_and_passes_the_rest() {
        let mut out = RedactingWriter(Vec::new());
        out.write_all(b"plain line\n").unwrap();
        out.write_all(b"connect postgres://u@h/d?password=hunter2 failed\n")
            .unwrap();
        let text = String::from_utf8(out.0).unwrap();
        assert_eq!(
            text,
            "plain line\nconnect postgres://u@h/d?password=*** failed\n"
        );
    }
}

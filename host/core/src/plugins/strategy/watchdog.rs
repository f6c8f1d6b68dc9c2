//! The watchdog: every instance's worker stamps the start of each call into the plugin; an
//! instance whose call has run longer than the limit is marked hung and its driver told, so
//! the fault policy runs while the call goes on. The stuck thread cannot be killed (it runs
//! the plugin's code in our process); when its call returns, the result is dropped.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::plugins::services::{Lifecycle, Request, State};

/// The default limit of one call.
pub const DEFAULT_CALL_LIMIT: Duration = Duration::from_secs(2);

struct Watched {
    life: Weak<Lifecycle>,
    notes: mpsc::UnboundedSender<Request>,
}

/// The instances watched; the thread ends when this is dropped.
pub(super) struct Watchdog {
    watched: Arc<Mutex<Vec<Watched>>>,
}

impl Watchdog {
    /// Starts the watchdog thread for calls limited to `limit`.
    pub fn start(limit: Duration) -> Self {
        let watched: Arc<Mutex<Vec<Watched>>> = Arc::default();
        let weak = Arc::downgrade(&watched);
        let every = (limit / 10).clamp(Duration::from_millis(10), Duration::from_millis(250));
        let started = std::thread::Builder::new()
            .name("plugin watchdog".into())
            .spawn(move || {
                while let Some(watched) = weak.upgrade() {
                    scan(&watched, limit);
                    drop(watched);
                    std::thread::sleep(every);
                }
            });
        if let Err(e) = started {
            tracing::error!(error = %e, "the plugin watchdog did not start: hung plugins go unnoticed");
        }
        Self { watched }
    }

    /// Watches an instance until its lifecycle is dropped.
    pub fn watch(&self, life: &Arc<Lifecycle>, notes: mpsc::UnboundedSender<Request>) {
        self.watched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Watched {
                life: Arc::downgrade(life),
                notes,
            });
    }
}

fn scan(watched: &Mutex<Vec<Watched>>, limit: Duration) {
    let mut watched = watched.lock().unwrap_or_else(|p| p.into_inner());
    watched.retain(|w| w.life.strong_count() > 0);
    for w in watched.iter() {
        let Some(life) = w.life.upgrade() else {
            continue;
        };
        let Some((slot, running)) = life.overdue(limit) else {
            continue;
        };
        let from = [State::Starting, State::Running, State::Stopping];
        if life.transition(&from, State::Hung) {
            let _ = w.notes.send(Request::Hung(format!(
                "{slot} has not returned after {:.1} s (the limit is {:.1} s): hung",
                running.as_secs_f64(),
                limit.as_secs_f64()
            )));
        }
    }
}

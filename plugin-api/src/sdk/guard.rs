//! Panic containment: every thunk runs the plugin's code under [`guarded`], which catches a
//! panic, logs it through the host with the slot's name, and tells the thunk to answer
//! `TW_ERR_PANICKED` (or null). A panic must never unwind into the host: across the C ABI it
//! would abort the process.
//!
//! The panic hook the SDK installs at `init` keeps the message and location of a panic inside a
//! guard for the guard's log line (instead of printing it), and hands any other panic to the
//! previous hook after logging it to the host.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, PanicHookInfo, catch_unwind};
use std::sync::{Mutex, Once, PoisonError};

use super::host::log_with;
use crate::abi::{TW_LOG_ERROR, TwHostApi};

thread_local! {
    static GUARD_DEPTH: Cell<u32> = const { Cell::new(0) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A host table kept across threads (the host's table is immutable and lives for ever).
#[derive(Clone, Copy)]
pub(crate) struct SharedHost(pub(crate) TwHostApi);

// SAFETY: the host table is immutable, `'static` on the host's side, and its functions are
// documented as callable from any thread.
unsafe impl Send for SharedHost {}

/// The host to log a panic outside any guard to (the last one that called `init`).
static FALLBACK_HOST: Mutex<Option<SharedHost>> = Mutex::new(None);
static HOOK: Once = Once::new();

/// Installs the SDK's panic hook (once per copy of `std`, i.e. per plugin library) and makes
/// `host` the one that panics outside a guard are logged to.
pub(crate) fn install_panic_hook(host: TwHostApi) {
    *FALLBACK_HOST.lock().unwrap_or_else(PoisonError::into_inner) = Some(SharedHost(host));
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            let msg = describe(info);
            if GUARD_DEPTH.with(Cell::get) > 0 {
                LAST_PANIC.with(|l| *l.borrow_mut() = Some(msg));
                return;
            }
            let host = *FALLBACK_HOST.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(SharedHost(host)) = host {
                log_with(
                    &host,
                    TW_LOG_ERROR,
                    &format!("panic outside a plugin call: {msg}"),
                );
            }
            previous(info);
        }));
    });
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = payload_text(info.payload());
    match info.location() {
        Some(loc) => format!("{payload} (at {}:{})", loc.file(), loc.line()),
        None => payload,
    }
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// What a guarded call ended with when it panicked: the line already logged to the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

/// Runs `f` with panics caught: `Err` carries the message, already logged through `host` as
/// `panic in <slot>: <message> (at file:line)`. For hand-written thunks too (the SDK's own all
/// use it).
pub fn guarded<T>(
    host: Option<&TwHostApi>,
    slot: &str,
    f: impl FnOnce() -> T,
) -> Result<T, Panicked> {
    GUARD_DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARD_DEPTH.with(|d| d.set(d.get() - 1));
    match result {
        Ok(value) => Ok(value),
        Err(payload) => {
            let msg = LAST_PANIC
                .with(|l| l.borrow_mut().take())
                .unwrap_or_else(|| payload_text(&*payload));
            // Dropping the payload runs the plugin's code again; a panic there is swallowed.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            let line = format!("panic in {slot}: {msg}");
            if let Some(host) = host {
                log_with(host, TW_LOG_ERROR, &line);
            }
            Err(Panicked(line))
        }
    }
}

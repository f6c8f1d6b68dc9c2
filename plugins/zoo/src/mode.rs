//! The zoo's modes and the one selected when the entry was last called.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

macro_rules! modes {
    ($($variant:ident = $name:literal),* $(,)?) => {
        /// How the zoo misbehaves (see the crate docs).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Mode { $($variant),* }

        impl Mode {
            /// Every mode, in the order of the crate docs.
            pub const ALL: &[Mode] = &[$(Mode::$variant),*];

            /// The `TICKWORK_ZOO` value of the mode.
            pub fn name(self) -> &'static str {
                match self { $(Mode::$variant => $name),* }
            }
        }
    };
}

modes! {
    Ok = "ok",
    PanicInit = "panic-init",
    PanicGetCapability = "panic-get-capability",
    PanicCreate = "panic-create",
    PanicOnEvent = "panic-on-event",
    PanicDestroy = "panic-destroy",
    PanicCompute = "panic-compute",
    PanicPanelCreate = "panic-panel-create",
    NullDescriptor = "null-descriptor",
    NullCapability = "null-capability",
    NullCreate = "null-create",
    NullFn = "null-fn",
    WrongMajor = "wrong-major",
    NewerMinor = "newer-minor",
    SmallDescriptor = "small-descriptor",
    SmallStrategyTable = "small-strategy-table",
    BigDescriptor = "big-descriptor",
    BadUtf8Id = "bad-utf8-id",
    IdMismatch = "id-mismatch",
    BadStatus = "bad-status",
    BusyLoop = "busy-loop",
    Abort = "abort",
    NoPermissionTrade = "no-permission-trade",
    Segfault = "segfault",
}

impl Mode {
    /// The mode named `raw` (`""` is `ok`), or `None`.
    pub fn parse(raw: &str) -> Option<Mode> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Some(Mode::Ok);
        }
        Mode::ALL.iter().copied().find(|m| m.name() == raw)
    }
}

/// `u8::MAX` when the last `TICKWORK_ZOO` value named no mode.
const UNKNOWN: u8 = u8::MAX;
static CURRENT: AtomicU8 = AtomicU8::new(Mode::Ok as u8);
static UNKNOWN_VALUE: Mutex<String> = Mutex::new(String::new());

/// Makes `raw` the current mode; an unknown value behaves as `ok` until `init`, which refuses.
pub(crate) fn select(raw: &str) -> Mode {
    match Mode::parse(raw) {
        Some(mode) => {
            CURRENT.store(mode as u8, Ordering::Release);
            mode
        }
        None => {
            *UNKNOWN_VALUE.lock().unwrap_or_else(|e| e.into_inner()) = raw.to_owned();
            CURRENT.store(UNKNOWN, Ordering::Release);
            Mode::Ok
        }
    }
}

/// The current mode, or the unknown value that was asked for.
pub(crate) fn current() -> Result<Mode, String> {
    let raw = CURRENT.load(Ordering::Acquire);
    Mode::ALL
        .iter()
        .copied()
        .find(|m| *m as u8 == raw)
        .ok_or_else(|| {
            UNKNOWN_VALUE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        })
}

/// Whether the current mode is `mode`.
pub(crate) fn is(mode: Mode) -> bool {
    current() == Ok(mode)
}

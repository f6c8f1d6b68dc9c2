//! The host-owned context of one plugin instance (`TwInstanceCtx`): who is calling (plugin id,
//! instance name, granted permissions, the account it trades), whether it still takes calls,
//! and where its requests go. A strategy's requests go to its worker; a panel's (later) to
//! whatever delivers its events. The pointer handed to the plugin stays valid until the
//! instance's last call into the plugin has returned.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tickwork_plugin_api::abi::TwInstanceCtx;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::domain::Origin;
use crate::plugins::permissions::Permissions;
use crate::scripting::strategy::OrderRequest;
use crate::store::script_runs::RunMode;

/// Intents one call into the plugin may submit; beyond, `submit` answers `TW_ERR_DENIED` (a
/// strategy that re-sends every denied order would otherwise flood the gate and the audit log).
pub const INTENTS_PER_CALL: u32 = 100;
/// How long a service call waits for the database.
const DB_WAIT: Duration = Duration::from_secs(10);
/// Marks a live context, so that a stray pointer (a plugin passing its own instance by
/// mistake) is refused rather than read as one.
const MAGIC: u64 = 0x5457_5f49_4e53_5443;

/// Where an instance is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// `create` is running.
    Starting = 0,
    Running = 1,
    /// `destroy` is running or about to.
    Stopping = 2,
    Stopped = 3,
    /// It answered a call with an error status, or fell behind.
    Faulted = 4,
    /// A call into it overran the watchdog's limit.
    Hung = 5,
}

impl State {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Starting,
            1 => Self::Running,
            2 => Self::Stopping,
            3 => Self::Stopped,
            4 => Self::Faulted,
            _ => Self::Hung,
        }
    }
}

/// An instance's state and its call in progress, shared by its worker, its driver, the
/// watchdog and the service functions.
#[derive(Debug)]
pub struct Lifecycle {
    state: AtomicU8,
    /// When the current call into the plugin started, in ms since `epoch` plus one; 0 when
    /// no call is in progress.
    call_started: AtomicU64,
    slot: Mutex<&'static str>,
    epoch: Instant,
    /// Intents submitted during the current call.
    submitted: AtomicU32,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            state: AtomicU8::new(State::Starting as u8),
            call_started: AtomicU64::new(0),
            slot: Mutex::new(""),
            epoch: Instant::now(),
            submitted: AtomicU32::new(0),
        }
    }
}

impl Lifecycle {
    pub fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::SeqCst))
    }

    /// Whether service calls are answered (while starting and running).
    pub fn accepts_calls(&self) -> bool {
        matches!(self.state(), State::Starting | State::Running)
    }

    /// Moves to `to` if the state is one of `from`; answers whether it did.
    pub fn transition(&self, from: &[State], to: State) -> bool {
        let mut current = self.state.load(Ordering::SeqCst);
        loop {
            if !from.contains(&State::from_u8(current)) {
                return false;
            }
            match self
                .state
                .compare_exchange(current, to as u8, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(seen) => current = seen,
            }
        }
    }

    /// Notes that a call into `slot` starts now (the watchdog times it).
    pub fn begin_call(&self, slot: &'static str) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = slot;
        self.submitted.store(0, Ordering::SeqCst);
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.call_started.store(ms + 1, Ordering::SeqCst);
    }

    /// Notes that the call returned.
    pub fn end_call(&self) {
        self.call_started.store(0, Ordering::SeqCst);
    }

    /// Counts an intent of the current call; false once it is past [`INTENTS_PER_CALL`].
    pub fn count_intent(&self) -> bool {
        self.submitted.fetch_add(1, Ordering::SeqCst) < INTENTS_PER_CALL
    }

    /// The slot and duration of a call in progress for longer than `limit`.
    pub fn overdue(&self, limit: Duration) -> Option<(&'static str, Duration)> {
        let started = self.call_started.load(Ordering::SeqCst);
        if started == 0 {
            return None;
        }
        let since = self
            .epoch
            .elapsed()
            .saturating_sub(Duration::from_millis(started - 1));
        (since > limit).then(|| (*self.slot.lock().unwrap_or_else(|p| p.into_inner()), since))
    }
}

/// What an instance asks of its driver, or what its worker and the watchdog report.
#[derive(Debug)]
pub enum Request {
    /// An intent that passed the service's checks, for the risk gate.
    Place {
        intent_id: u64,
        instrument_id: u32,
        order: OrderRequest,
    },
    Cancel {
        intent_id: u64,
    },
    Subscribe {
        instrument_id: u32,
        symbol: String,
        kinds: u32,
        bar_secs: u32,
    },
    Unsubscribe {
        instrument_id: u32,
    },
    /// The plugin answered a call with an error status (or panicked): the detail says which.
    Faulted(String),
    /// A call overran the watchdog's limit.
    Hung(String),
    /// `destroy` returned.
    Destroyed,
}

/// The account and mode a strategy instance trades.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trading {
    pub account: String,
    pub mode: RunMode,
}

/// One instance's context; boxed, and handed to the plugin as `*mut TwInstanceCtx`.
pub struct InstanceCtx {
    magic: u64,
    pub plugin_id: String,
    /// The instance's name (`mean-reversion@DU123/paper`).
    pub instance: String,
    /// What the user granted the plugin.
    pub permissions: Permissions,
    /// `None` for panels, which do not trade.
    pub trading: Option<Trading>,
    pub life: Arc<Lifecycle>,
    requests: mpsc::UnboundedSender<Request>,
    pub(super) pool: PgPool,
    runtime: Handle,
    next_intent: AtomicU64,
    next_instrument: AtomicU32,
    /// Subscribed instrument ids and their symbols (`SPY`, `SPY 20261218 C 600`).
    instruments: Mutex<HashMap<u32, String>>,
}

impl InstanceCtx {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plugin_id: String,
        instance: String,
        permissions: Permissions,
        trading: Option<Trading>,
        life: Arc<Lifecycle>,
        requests: mpsc::UnboundedSender<Request>,
        pool: PgPool,
        runtime: Handle,
    ) -> Self {
        Self {
            magic: MAGIC,
            plugin_id,
            instance,
            permissions,
            trading,
            life,
            requests,
            pool,
            runtime,
            next_intent: AtomicU64::new(1),
            next_instrument: AtomicU32::new(1),
            instruments: Mutex::default(),
        }
    }

    /// Hands the context over as the ABI pointer; [`InstanceCtx::free`] takes it back.
    pub fn into_raw(self: Box<Self>) -> *mut TwInstanceCtx {
        Box::into_raw(self).cast()
    }

    /// Frees a context made by [`InstanceCtx::into_raw`].
    ///
    /// # Safety
    /// `ptr` came from `into_raw`, is freed once, and no call that uses it is in progress.
    pub unsafe fn free(ptr: *mut TwInstanceCtx) {
        if !ptr.is_null() {
            // SAFETY: per the contract above, `ptr` is a leaked `Box<InstanceCtx>`.
            drop(unsafe { Box::from_raw(ptr.cast::<InstanceCtx>()) });
        }
    }

    /// The context behind a pointer a plugin passed back; `None` for null or a pointer that
    /// is not a live context.
    ///
    /// # Safety
    /// `ptr` must be null or point to readable memory of at least an `InstanceCtx`'s size
    /// (the host's pointers do until the instance's last call returns).
    pub(super) unsafe fn from_raw<'a>(ptr: *mut TwInstanceCtx) -> Option<&'a InstanceCtx> {
        // SAFETY: per the contract above.
        let ctx = unsafe { ptr.cast::<InstanceCtx>().as_ref()? };
        (ctx.magic == MAGIC).then_some(ctx)
    }

    /// `plugin:<id>/<instance>`, as the audit log and the order book show it.
    pub fn origin(&self) -> Origin {
        Origin::Plugin {
            id: self.plugin_id.clone(),
            instance: self.instance.clone(),
        }
    }

    /// Queues a request for the driver; false when the driver is gone.
    pub(super) fn send(&self, request: Request) -> bool {
        self.requests.send(request).is_ok()
    }

    pub(super) fn next_intent_id(&self) -> u64 {
        self.next_intent.fetch_add(1, Ordering::SeqCst)
    }

    /// Whether `id` is an intent id this instance was given.
    pub(super) fn issued_intent(&self, id: u64) -> bool {
        id >= 1 && id < self.next_intent.load(Ordering::SeqCst)
    }

    pub(super) fn add_instrument(&self, symbol: String) -> u32 {
        let id = self.next_instrument.fetch_add(1, Ordering::SeqCst);
        self.instruments().insert(id, symbol);
        id
    }

    pub(super) fn symbol_of(&self, instrument_id: u32) -> Option<String> {
        self.instruments().get(&instrument_id).cloned()
    }

    pub(super) fn remove_instrument(&self, instrument_id: u32) -> bool {
        self.instruments().remove(&instrument_id).is_some()
    }

    fn instruments(&self) -> std::sync::MutexGuard<'_, HashMap<u32, String>> {
        self.instruments.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `fut` on the host's runtime and waits for it (plugin calls come on host-owned
    /// threads outside the runtime); `None` when it took longer than [`DB_WAIT`].
    pub(super) fn block_on<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv_timeout(DB_WAIT).ok()
    }
}

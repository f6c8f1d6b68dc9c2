//! The host-owned thread of one plugin strategy instance: `create`, then its events one at a
//! time in the order its driver queued them, then `destroy`. Each call is stamped for the
//! watchdog and noted in the crash journal. A non-OK answer from `on_event` faults the
//! instance; a call the watchdog found hung ends the thread when (if ever) it returns, and its
//! result is dropped.

use std::sync::Arc;
use std::sync::mpsc::Receiver;

use tickwork_plugin_api::abi::{
    TW_ERR, TW_ERR_BAD_ARG, TW_ERR_FAULTED, TW_ERR_PANICKED, TW_OK, TwInstance, TwStatus, TwStr,
};
use tokio::sync::{mpsc, oneshot};

use crate::plugins::capability::{HostApiRef, StrategyTable};
use crate::plugins::journal;
use crate::plugins::services::{Event, InstanceCtx, Lifecycle, Request, State};

/// What the driver sends the worker.
pub(super) enum ThreadMsg {
    Event(Event),
    /// Stop: `destroy`, and end.
    Stop,
}

/// Everything the worker needs to call the plugin.
pub(super) struct Calls {
    pub plugin_id: String,
    pub instance: String,
    pub table: StrategyTable,
    pub host: HostApiRef,
    pub life: Arc<Lifecycle>,
    /// To the driver: faults and `destroy` done.
    pub notes: mpsc::UnboundedSender<Request>,
}

impl Calls {
    /// Runs one call into the plugin, timed by the watchdog and noted in the journal.
    fn call<R>(&self, slot: &'static str, f: impl FnOnce() -> R) -> R {
        let _journal = journal::enter(&self.plugin_id, &self.instance, slot);
        self.life.begin_call(slot);
        let result = f();
        self.life.end_call();
        result
    }
}

/// Why `on_event` faulted the instance, from its status.
pub(crate) fn describe(status: TwStatus, kind: u16) -> String {
    let what = match status {
        TW_ERR_PANICKED => "panicked (the plugin's guard caught it)".to_owned(),
        TW_ERR => "failed (see the plugin's log)".to_owned(),
        TW_ERR_BAD_ARG => "refused the event as malformed".to_owned(),
        TW_ERR_FAULTED => "answered that it had faulted earlier".to_owned(),
        other => format!("answered the unknown status {other}"),
    };
    format!("on_event (event kind {kind}) {what}")
}

/// Starts the worker; `created` answers once `create` returned (an error when it returned
/// null or the thread could not start).
pub(super) fn spawn(
    calls: Calls,
    ctx: Box<InstanceCtx>,
    params_json: String,
    inbox: Receiver<ThreadMsg>,
    created: oneshot::Sender<Result<(), String>>,
) -> Result<(), String> {
    std::thread::Builder::new()
        .name(format!("plugin {}", calls.instance))
        .spawn(move || run(&calls, ctx, &params_json, &inbox, created))
        .map(drop)
        .map_err(|e| format!("the plugin's worker thread did not start: {e}"))
}

fn run(
    calls: &Calls,
    ctx: Box<InstanceCtx>,
    params_json: &str,
    inbox: &Receiver<ThreadMsg>,
    created: oneshot::Sender<Result<(), String>>,
) {
    let table = calls.table.0;
    let ctx = ctx.into_raw();
    let params = TwStr {
        ptr: params_json.as_ptr(),
        len: params_json.len(),
    };
    let (Some(create), Some(on_event), Some(destroy)) =
        (table.create, table.on_event, table.destroy)
    else {
        let _ = created.send(Err("the strategy table has a null entry".into()));
        // SAFETY: no call into the plugin received the context.
        unsafe { InstanceCtx::free(ctx) };
        return;
    };
    // SAFETY: the table's `create`, with the host table, a live context and the parameters,
    // all valid for the call.
    let this: *mut TwInstance = calls.call("strategy.create", || unsafe {
        create(calls.host.0, ctx, params)
    });
    if this.is_null() {
        calls.life.transition(&[State::Starting], State::Faulted);
        let _ = created.send(Err(
            "create returned null (it refused its parameters; see the plugin's log)".into(),
        ));
    } else if !calls.life.transition(&[State::Starting], State::Running) {
        // Hung in create: the watchdog reported it; the late instance is dropped (leaked).
    } else {
        let _ = created.send(Ok(()));
        deliver(calls, this, on_event, inbox);
        if calls.life.state() != State::Hung {
            // SAFETY: `this` came from `create`; no call follows `destroy`.
            calls.call("strategy.destroy", || unsafe { destroy(this) });
            let _ = calls.notes.send(Request::Destroyed);
        }
    }
    // SAFETY: the last call into the plugin has returned; nothing uses the context again.
    unsafe { InstanceCtx::free(ctx) };
}

type OnEvent = unsafe extern "C" fn(
    *mut TwInstance,
    *const tickwork_plugin_api::abi::TwEventHeader,
) -> TwStatus;

/// Feeds events until told to stop, the instance leaves the running state, or it faults.
fn deliver(calls: &Calls, this: *mut TwInstance, on_event: OnEvent, inbox: &Receiver<ThreadMsg>) {
    while let Ok(ThreadMsg::Event(event)) = inbox.recv() {
        if calls.life.state() != State::Running {
            return;
        }
        // SAFETY: `this` is the live instance; the event is laid out for this call.
        let status = calls.call("strategy.on_event", || {
            event.with_abi(|header| unsafe { on_event(this, header) })
        });
        if calls.life.state() == State::Hung {
            return;
        }
        if status != TW_OK {
            if calls
                .life
                .transition(&[State::Running, State::Stopping], State::Faulted)
            {
                let _ = calls
                    .notes
                    .send(Request::Faulted(describe(status, event.kind())));
            }
            return;
        }
    }
}

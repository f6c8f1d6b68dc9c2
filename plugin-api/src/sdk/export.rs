//! The machinery behind [`crate::export_plugin!`]: the descriptor, and `extern "C"` thunks
//! that check every argument, refuse a faulted instance, and run the plugin's code under
//! [`guarded`] so a panic becomes `TW_ERR_PANICKED` (and faults the instance) instead of
//! unwinding into the host.
//!
//! Plugin authors use the macro; the items here are public so the macro's expansion (and a
//! hand-written wrapper around the entry, as the test zoo has) can name them.

use core::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use super::convert::{str_from_tw, str_to_tw};
use super::event::Event;
use super::guard::{SharedHost, guarded, install_panic_hook};
use super::host::{HostServices, StrategyCtx, log_with};
use super::margin::{MarginInput, write_reason};
use super::traits::{MarginRule, Strategy};
use crate::abi::{
    TW_ABI_MAJOR, TW_ABI_MINOR, TW_ERR, TW_ERR_BAD_ARG, TW_ERR_FAULTED, TW_ERR_PANICKED,
    TW_ERR_UNSUPPORTED, TW_LOG_ERROR, TW_LOG_WARN, TW_OK, TwEventHeader, TwHostApi, TwInstance,
    TwInstanceCtx, TwMarginInput, TwMarginResult, TwMarginRuleV1, TwPluginDescriptor, TwStatus,
    TwStr, TwStrategyV1, read_prefixed, v1_0_size,
};

/// Free text put in the descriptor's `build_info`.
pub const SDK_BUILD_INFO: &str = concat!("tickwork-plugin-api ", env!("CARGO_PKG_VERSION"));

/// A value with raw pointers (a `'static` table) made shareable between threads: the tables
/// only hold `'static` strings and function pointers.
#[repr(transparent)]
pub struct Static<T>(pub T);

// SAFETY: only used for immutable tables of `'static` strings and function pointers.
unsafe impl<T> Sync for Static<T> {}
// SAFETY: as above.
unsafe impl<T> Send for Static<T> {}

/// Plugin-wide state: the host table `init` received, and whether the plugin faulted there.
pub struct PluginState {
    host: Mutex<Option<SharedHost>>,
    faulted: AtomicBool,
}

impl Default for PluginState {
    fn default() -> Self {
        Self::new()
    }
}

impl PluginState {
    pub const fn new() -> Self {
        Self {
            host: Mutex::new(None),
            faulted: AtomicBool::new(false),
        }
    }

    /// The host table from the last `init`, if any.
    pub fn host(&self) -> Option<TwHostApi> {
        self.host
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|h| h.0)
    }

    /// Whether a plugin-wide call (`init`, `get_capability`) panicked.
    pub fn is_faulted(&self) -> bool {
        self.faulted.load(Ordering::Acquire)
    }

    fn set_host(&self, host: TwHostApi) {
        *self.host.lock().unwrap_or_else(PoisonError::into_inner) = Some(SharedHost(host));
        self.faulted.store(false, Ordering::Release);
    }

    fn fault(&self) {
        self.faulted.store(true, Ordering::Release);
    }
}

/// The plugin's host during `init`: logging and the host's version (services need an
/// instance and come with `create`).
#[derive(Clone, Copy)]
pub struct PluginHost(TwHostApi);

impl PluginHost {
    pub fn log(&self, level: u32, msg: &str) {
        log_with(&self.0, level, msg);
    }

    /// The host's version, e.g. `0.1.0` (empty if not UTF-8).
    pub fn host_version(&self) -> &str {
        // SAFETY: the host's strings live as long as its table.
        unsafe { str_from_tw(self.0.host_version) }.unwrap_or("")
    }
}

/// What [`crate::export_plugin!`] generates for each plugin: its identity, state and tables.
pub trait PluginMeta: 'static {
    const ID: &'static str;
    const VERSION: &'static str;
    /// The plugin's state (a `static` in the plugin crate).
    fn state() -> &'static PluginState;
    /// The plugin's own set-up, run under the guard at the end of `init`.
    fn init_hook(host: &PluginHost) -> Result<(), String>;
    /// The table for a capability id, or null.
    fn capability(id: &str) -> *const c_void;
}

/// The descriptor of plugin `P`, with `TW_FLAG_PANIC_UNWIND` in `flags` when the plugin crate
/// was built with `panic = "unwind"` (the macro evaluates `cfg!` in the plugin's crate).
pub const fn descriptor<P: PluginMeta>(flags: u32) -> TwPluginDescriptor {
    TwPluginDescriptor {
        struct_size: core::mem::size_of::<TwPluginDescriptor>() as u32,
        abi_major: TW_ABI_MAJOR,
        abi_minor: TW_ABI_MINOR,
        flags,
        _reserved: 0,
        id: str_to_tw(P::ID),
        version: str_to_tw(P::VERSION),
        build_info: str_to_tw(SDK_BUILD_INFO),
        init: Some(init_thunk::<P>),
        shutdown: Some(shutdown_thunk::<P>),
        get_capability: Some(get_capability_thunk::<P>),
    }
}

/// Whether `asked` names this capability: the bare id (`tickwork.strategy/1`) names the first
/// of its kind, `<capability id>#<provided id>` a particular one.
pub fn capability_matches(asked: &str, cap: &str, provided: &str, first_of_kind: bool) -> bool {
    if asked == cap {
        return first_of_kind;
    }
    asked
        .strip_prefix(cap)
        .and_then(|rest| rest.strip_prefix('#'))
        .is_some_and(|p| p == provided)
}

/// `init`: keeps the host table, installs the panic hook and runs the plugin's init hook.
///
/// # Safety
/// `host` must be null or a host table valid for the rest of the process.
pub unsafe extern "C" fn init_thunk<P: PluginMeta>(host: *const TwHostApi) -> TwStatus {
    // SAFETY: the caller's contract; a short table is refused.
    let Ok(host) = (unsafe { read_prefixed(host, v1_0_size::HOST_API) }) else {
        return TW_ERR_BAD_ARG;
    };
    if host.abi_major != TW_ABI_MAJOR {
        log_with(
            &host,
            TW_LOG_ERROR,
            &format!(
                "{}: host ABI major {} differs from the plugin's {TW_ABI_MAJOR}",
                P::ID,
                host.abi_major
            ),
        );
        return TW_ERR_UNSUPPORTED;
    }
    P::state().set_host(host);
    install_panic_hook(host);
    match guarded(Some(&host), "init", || P::init_hook(&PluginHost(host))) {
        Ok(Ok(())) => TW_OK,
        Ok(Err(msg)) => {
            log_with(&host, TW_LOG_ERROR, &format!("init failed: {msg}"));
            TW_ERR
        }
        Err(_) => {
            P::state().fault();
            TW_ERR_PANICKED
        }
    }
}

/// `shutdown`: nothing to release (libraries stay loaded and instances are destroyed first).
///
/// # Safety
/// None beyond the ABI's: called once at exit.
pub unsafe extern "C" fn shutdown_thunk<P: PluginMeta>() {}

/// `get_capability`: the `'static` table for an id, or null (also after a fault or a panic).
///
/// # Safety
/// `id` must be a string valid for the call.
pub unsafe extern "C" fn get_capability_thunk<P: PluginMeta>(id: TwStr) -> *const c_void {
    let state = P::state();
    if state.is_faulted() {
        return core::ptr::null();
    }
    // SAFETY: borrowed for the call.
    let Ok(id) = (unsafe { str_from_tw(id) }) else {
        return core::ptr::null();
    };
    let host = state.host();
    match guarded(host.as_ref(), "get_capability", || P::capability(id)) {
        Ok(ptr) => ptr,
        Err(_) => {
            state.fault();
            core::ptr::null()
        }
    }
}

/// One plugin instance: the trait object's state, its host view, and whether it faulted.
pub(crate) struct InstanceCell<T, C> {
    pub(crate) value: T,
    pub(crate) ctx: C,
    pub(crate) faulted: bool,
}

/// The `tickwork.strategy/1` table of strategy `S` of plugin `P`.
pub const fn strategy_table<P: PluginMeta, S: Strategy>() -> TwStrategyV1 {
    TwStrategyV1 {
        struct_size: core::mem::size_of::<TwStrategyV1>() as u32,
        _reserved: 0,
        type_id: str_to_tw(S::TYPE_ID),
        create: Some(strategy_create::<P, S>),
        on_event: Some(strategy_on_event::<S>),
        destroy: Some(strategy_destroy::<S>),
    }
}

/// Reads the host table handed to a `create`, refusing null and short ones.
///
/// # Safety
/// `host` must be null or a valid host table.
pub(crate) unsafe fn create_host<P: PluginMeta>(
    host: *const TwHostApi,
    inst: *mut TwInstanceCtx,
) -> Option<TwHostApi> {
    // SAFETY: the caller's contract.
    let host = unsafe { read_prefixed(host, v1_0_size::HOST_API) }.ok()?;
    if inst.is_null() || P::state().is_faulted() {
        log_with(
            &host,
            TW_LOG_ERROR,
            "create refused: null instance context or faulted plugin",
        );
        return None;
    }
    Some(host)
}

unsafe extern "C" fn strategy_create<P: PluginMeta, S: Strategy>(
    host: *const TwHostApi,
    inst: *mut TwInstanceCtx,
    params_json: TwStr,
) -> *mut TwInstance {
    // SAFETY: the ABI's contract for `create`.
    let Some(host) = (unsafe { create_host::<P>(host, inst) }) else {
        return core::ptr::null_mut();
    };
    // SAFETY: borrowed for the call.
    let Ok(params) = (unsafe { str_from_tw(params_json) }) else {
        log_with(
            &host,
            TW_LOG_ERROR,
            &format!("{}: parameters are not UTF-8", S::TYPE_ID),
        );
        return core::ptr::null_mut();
    };
    let mut ctx = StrategyCtx(HostServices::new(host, inst));
    match guarded(Some(&host), "strategy.create", || {
        S::create(&mut ctx, params)
    }) {
        Ok(Ok(value)) => Box::into_raw(Box::new(InstanceCell {
            value,
            ctx,
            faulted: false,
        }))
        .cast(),
        Ok(Err(msg)) => {
            log_with(
                &host,
                TW_LOG_ERROR,
                &format!("{}: create refused: {msg}", S::TYPE_ID),
            );
            core::ptr::null_mut()
        }
        Err(_) => core::ptr::null_mut(),
    }
}

unsafe extern "C" fn strategy_on_event<S: Strategy>(
    this: *mut TwInstance,
    ev: *const TwEventHeader,
) -> TwStatus {
    if this.is_null() || ev.is_null() {
        return TW_ERR_BAD_ARG;
    }
    // SAFETY: a non-null `this` is an instance `strategy_create` made, used by one thread at a
    // time (the ABI serialises an instance's calls).
    let cell = unsafe { &mut *this.cast::<InstanceCell<S, StrategyCtx>>() };
    if cell.faulted {
        return TW_ERR_FAULTED;
    }
    // SAFETY: the event is readable for its `size` during the call.
    let Some(event) = (unsafe { Event::decode(ev) }) else {
        return TW_OK;
    };
    let host = cell.ctx.0.table();
    let InstanceCell { value, ctx, .. } = cell;
    match guarded(Some(&host), "strategy.on_event", || {
        value.on_event(ctx, &event)
    }) {
        Ok(Ok(())) => TW_OK,
        Ok(Err(msg)) => {
            log_with(&host, TW_LOG_ERROR, &format!("{}: {msg}", S::TYPE_ID));
            TW_ERR
        }
        Err(_) => {
            cell.faulted = true;
            TW_ERR_PANICKED
        }
    }
}

unsafe extern "C" fn strategy_destroy<S: Strategy>(this: *mut TwInstance) {
    // SAFETY: the ABI's contract: an instance `strategy_create` made, no call follows.
    unsafe { destroy_cell::<S, StrategyCtx>(this, "strategy.destroy", |v, c| v.on_destroy(c)) }
}

/// Runs the instance's `on_destroy` (unless it faulted) and frees it, under the guard; a panic
/// is logged and whatever is left leaks.
///
/// # Safety
/// `this` must be null or an instance made by a matching `create`, with no call after this.
pub(crate) unsafe fn destroy_cell<T, C: HasHost>(
    this: *mut TwInstance,
    slot: &str,
    on_destroy: impl FnOnce(&mut T, &mut C),
) {
    if this.is_null() {
        return;
    }
    let cell = this.cast::<InstanceCell<T, C>>();
    // SAFETY: per the contract, `cell` is live and ours alone now.
    let host = unsafe { (*cell).ctx.host_table() };
    // SAFETY: as above.
    if !unsafe { (*cell).faulted } {
        // SAFETY: as above.
        let c = unsafe { &mut *cell };
        let InstanceCell { value, ctx, .. } = c;
        if guarded(Some(&host), slot, || on_destroy(value, ctx)).is_err() {
            log_with(
                &host,
                TW_LOG_WARN,
                "instance leaked after a panic in destroy",
            );
            return;
        }
    }
    // SAFETY: the cell was made by `Box::into_raw` in `create` and is freed only here.
    let boxed = unsafe { Box::from_raw(cell) };
    if guarded(Some(&host), slot, move || drop(boxed)).is_err() {
        log_with(
            &host,
            TW_LOG_WARN,
            "instance partly leaked after a panic while dropping it",
        );
    }
}

/// The host table a context was made with (for the guard's log lines).
pub(crate) trait HasHost {
    fn host_table(&self) -> TwHostApi;
}

impl HasHost for StrategyCtx {
    fn host_table(&self) -> TwHostApi {
        self.0.table()
    }
}

/// The `tickwork.margin-rule/1` table of rule `M` of plugin `P`.
pub const fn margin_rule_table<P: PluginMeta, M: MarginRule>() -> TwMarginRuleV1 {
    TwMarginRuleV1 {
        struct_size: core::mem::size_of::<TwMarginRuleV1>() as u32,
        _reserved: 0,
        rule_id: str_to_tw(M::RULE_ID),
        compute: Some(margin_compute::<P, M>),
    }
}

unsafe extern "C" fn margin_compute<P: PluginMeta, M: MarginRule>(
    input: *const TwMarginInput,
    out: *mut TwMarginResult,
) -> TwStatus {
    if input.is_null() || out.is_null() {
        return TW_ERR_BAD_ARG;
    }
    // SAFETY: `out` is non-null and starts with its `struct_size`.
    let out_size = unsafe { out.cast::<u32>().read_unaligned() };
    if out_size < v1_0_size::MARGIN_RESULT {
        return TW_ERR_BAD_ARG;
    }
    if P::state().is_faulted() {
        return TW_ERR_FAULTED;
    }
    // SAFETY: the ABI's contract for `compute`: the input and its legs are valid for the call.
    let input = match unsafe { MarginInput::decode(input) } {
        Ok(input) => input,
        Err(status) => return status,
    };
    let host = P::state().host();
    match guarded(host.as_ref(), "margin.compute", || M::compute(&input)) {
        Ok(Ok(outcome)) => {
            // SAFETY: `out` is at least the v1.0 result, checked above.
            unsafe { outcome.write(out) };
            TW_OK
        }
        Ok(Err(msg)) => {
            // SAFETY: as above.
            unsafe { write_reason(out, &msg) };
            TW_ERR
        }
        Err(panicked) => {
            // SAFETY: as above.
            unsafe { write_reason(out, &panicked.0) };
            TW_ERR_PANICKED
        }
    }
}

/// Generates the plugin's descriptor function `tickwork_plugin_descriptor()` (and the
/// capability tables behind it) without exporting the entry symbol; [`crate::export_plugin!`]
/// adds the symbol. Use this one to wrap the entry by hand.
#[macro_export]
macro_rules! declare_plugin {
    (
        id: $id:expr,
        version: $version:expr,
        $(init: $init:path,)?
        strategies: [$($strategy:ty),* $(,)?],
        margin_rules: [$($rule:ty),* $(,)?],
        panels: [$($panel:ty),* $(,)?] $(,)?
    ) => {
        /// Marker type carrying this plugin's identity and tables (generated).
        #[doc(hidden)]
        pub struct __TickworkPlugin;

        impl $crate::sdk::export::PluginMeta for __TickworkPlugin {
            const ID: &'static str = $id;
            const VERSION: &'static str = $version;

            fn state() -> &'static $crate::sdk::export::PluginState {
                static STATE: $crate::sdk::export::PluginState =
                    $crate::sdk::export::PluginState::new();
                &STATE
            }

            #[allow(unused_variables, unreachable_code)]
            fn init_hook(
                host: &$crate::sdk::export::PluginHost,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $( return $init(host); )?
                Ok(())
            }

            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn capability(id: &str) -> *const ::core::ffi::c_void {
                let mut first = true;
                $(
                    {
                        static TABLE: $crate::sdk::export::Static<$crate::abi::TwStrategyV1> =
                            $crate::sdk::export::Static(
                                $crate::sdk::export::strategy_table::<__TickworkPlugin, $strategy>(),
                            );
                        if $crate::sdk::export::capability_matches(
                            id,
                            $crate::abi::TW_CAP_STRATEGY_V1,
                            <$strategy as $crate::sdk::Strategy>::TYPE_ID,
                            first,
                        ) {
                            return (&TABLE.0 as *const $crate::abi::TwStrategyV1).cast();
                        }
                        first = false;
                    }
                )*
                let mut first = true;
                $(
                    {
                        static TABLE: $crate::sdk::export::Static<$crate::abi::TwMarginRuleV1> =
                            $crate::sdk::export::Static(
                                $crate::sdk::export::margin_rule_table::<__TickworkPlugin, $rule>(),
                            );
                        if $crate::sdk::export::capability_matches(
                            id,
                            $crate::abi::TW_CAP_MARGIN_RULE_V1,
                            <$rule as $crate::sdk::MarginRule>::RULE_ID,
                            first,
                        ) {
                            return (&TABLE.0 as *const $crate::abi::TwMarginRuleV1).cast();
                        }
                        first = false;
                    }
                )*
                let mut first = true;
                $(
                    {
                        static TABLE: $crate::sdk::export::Static<$crate::abi::TwPanelGtk4V1> =
                            $crate::sdk::export::Static(
                                $crate::sdk::panel::panel_table::<__TickworkPlugin, $panel>(),
                            );
                        if $crate::sdk::export::capability_matches(
                            id,
                            $crate::abi::TW_CAP_PANEL_GTK4_V1,
                            <$panel as $crate::sdk::panel::Panel>::PANEL_ID,
                            first,
                        ) {
                            return (&TABLE.0 as *const $crate::abi::TwPanelGtk4V1).cast();
                        }
                        first = false;
                    }
                )*
                ::core::ptr::null()
            }
        }

        /// This plugin's `'static` descriptor (what the entry symbol returns).
        pub fn tickwork_plugin_descriptor() -> &'static $crate::abi::TwPluginDescriptor {
            static DESCRIPTOR: $crate::sdk::export::Static<$crate::abi::TwPluginDescriptor> =
                $crate::sdk::export::Static($crate::sdk::export::descriptor::<__TickworkPlugin>(
                    if cfg!(panic = "unwind") { $crate::abi::TW_FLAG_PANIC_UNWIND } else { 0 },
                ));
            &DESCRIPTOR.0
        }
    };
}

/// Exports a plugin: its descriptor (see [`crate::declare_plugin!`]) and the entry symbol
/// `tickwork_plugin_entry_v1`. Once per cdylib.
///
/// ```text
/// tickwork_plugin_api::export_plugin! {
///     id: "org.example.pairs",
///     version: env!("CARGO_PKG_VERSION"),
///     strategies: [Pairs],
///     margin_rules: [],
///     panels: [],
/// }
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($($body:tt)*) => {
        $crate::declare_plugin! { $($body)* }

        /// The ABI v1 entry point: returns the static descriptor, no side effects.
        #[unsafe(no_mangle)]
        pub extern "C" fn tickwork_plugin_entry_v1() -> *const $crate::abi::TwPluginDescriptor {
            tickwork_plugin_descriptor()
        }
    };
}

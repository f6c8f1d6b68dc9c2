//! Loading a plugin's descriptor into the [`FakeHost`] and driving its capabilities through
//! the C ABI, with the checks the real loader makes.

use core::ffi::c_void;

use rust_decimal::Decimal;

use super::encode::encode_event;
use super::services::FakeHost;
use crate::abi::{
    TW_ABI_MAJOR, TW_ABI_MINOR, TW_CAP_MARGIN_RULE_V1, TW_CAP_STRATEGY_V1, TW_ERR_BAD_ARG,
    TW_FLAG_PANIC_UNWIND, TW_MARGIN_ADD_ON, TW_MARGIN_OVERRIDE, TW_MARGIN_UNCHANGED, TW_OK,
    TwEntryV1, TwEventHeader, TwInstance, TwMarginResult, TwMarginRuleV1, TwPluginDescriptor,
    TwStatus, TwStrategyV1, read_prefixed, v1_0_size,
};
use crate::sdk::convert::{decimal_from_tw, str_from_tw, str_to_tw};
use crate::sdk::event::{Bar, Event, Tick};
use crate::sdk::host::collect;
use crate::sdk::margin::{MarginInput, MarginOutcome};

/// A plugin whose `init` succeeded against a [`FakeHost`].
pub struct FakePlugin<'h> {
    host: &'h FakeHost,
    descriptor: TwPluginDescriptor,
}

impl FakeHost {
    /// Calls a plugin's entry point and loads the descriptor it returns (see [`Self::load`]).
    ///
    /// # Safety
    /// `entry` must be a plugin's `tickwork_plugin_entry_v1`, returning null or a descriptor
    /// at least its `struct_size` long that lives for ever.
    pub unsafe fn load_entry(&self, entry: TwEntryV1) -> Result<FakePlugin<'_>, String> {
        // SAFETY: the caller's contract.
        let ptr = unsafe { entry() };
        // SAFETY: as above.
        let d = unsafe { read_prefixed(ptr, v1_0_size::DESCRIPTOR) }
            .map_err(|e| format!("descriptor: {e}"))?;
        self.load(&d)
    }

    /// Checks a descriptor as the loader does (size, ABI, panic flag, UTF-8 id) and calls its
    /// `init` with this host's table.
    pub fn load(&self, descriptor: &TwPluginDescriptor) -> Result<FakePlugin<'_>, String> {
        if descriptor.struct_size < v1_0_size::DESCRIPTOR {
            return Err(format!(
                "descriptor: struct_size {} is below the v1.0 size {}",
                descriptor.struct_size,
                v1_0_size::DESCRIPTOR
            ));
        }
        let d = *descriptor;
        if d.abi_major != TW_ABI_MAJOR || d.abi_minor > TW_ABI_MINOR {
            return Err(format!(
                "descriptor: ABI {}.{} not supported by host ABI {TW_ABI_MAJOR}.{TW_ABI_MINOR}",
                d.abi_major, d.abi_minor
            ));
        }
        if d.flags & TW_FLAG_PANIC_UNWIND == 0 {
            return Err("descriptor: built with panic=abort".to_owned());
        }
        // SAFETY: descriptor strings are `'static`.
        unsafe { str_from_tw(d.id) }.map_err(|_| "descriptor: id is not UTF-8".to_owned())?;
        let init = d.init.ok_or("descriptor: null init")?;
        // SAFETY: the host table is leaked, valid for ever.
        let status = unsafe { init(self.api) };
        if status != TW_OK {
            return Err(format!("init returned status {status}"));
        }
        Ok(FakePlugin {
            host: self,
            descriptor: d,
        })
    }
}

impl<'h> FakePlugin<'h> {
    /// The plugin's id.
    pub fn id(&self) -> &str {
        // SAFETY: checked UTF-8 at load; descriptor strings are `'static`.
        unsafe { str_from_tw(self.descriptor.id) }.unwrap_or("")
    }

    /// The raw answer of `get_capability` for `id`.
    pub fn capability(&self, id: &str) -> *const c_void {
        match self.descriptor.get_capability {
            // SAFETY: the id is borrowed for the call.
            Some(get) => unsafe { get(str_to_tw(id)) },
            None => core::ptr::null(),
        }
    }

    /// The table for a provided id: `<cap>#<provided>` first, then the bare capability id.
    fn table<T: Copy>(&self, cap: &str, provided: &str, min: u32) -> Result<T, String> {
        let mut ptr = self.capability(&format!("{cap}#{provided}"));
        if ptr.is_null() {
            ptr = self.capability(cap);
        }
        // SAFETY: a capability table of this id, at least its `struct_size` long.
        unsafe { read_prefixed(ptr.cast::<T>(), min) }.map_err(|e| format!("{cap} table: {e}"))
    }

    /// Creates an instance of strategy `type_id` with `params_json`.
    pub fn strategy(&self, type_id: &str, params_json: &str) -> Result<FakeStrategy<'h>, String> {
        let table: TwStrategyV1 = self.table(TW_CAP_STRATEGY_V1, type_id, v1_0_size::STRATEGY)?;
        // SAFETY: `'static` string of the table.
        let found = unsafe { str_from_tw(table.type_id) }.unwrap_or("");
        if found != type_id {
            return Err(format!("strategy table is `{found}`, not `{type_id}`"));
        }
        let create = table.create.ok_or("strategy table: null create")?;
        let (inst, number) = self.host.new_instance();
        // SAFETY: the host table and context are leaked; params borrowed for the call.
        let this = unsafe { create(self.host.api, inst, str_to_tw(params_json)) };
        if this.is_null() {
            let why = self
                .host
                .log_lines()
                .last()
                .map_or_else(String::new, |l| l.message.clone());
            return Err(format!("create returned null: {why}"));
        }
        Ok(FakeStrategy {
            host: self.host,
            table,
            this,
            instance: number,
        })
    }

    /// The margin rule `rule_id`.
    pub fn margin_rule(&self, rule_id: &str) -> Result<FakeMarginRule, String> {
        let table: TwMarginRuleV1 =
            self.table(TW_CAP_MARGIN_RULE_V1, rule_id, v1_0_size::MARGIN_RULE)?;
        // SAFETY: `'static` string of the table.
        let found = unsafe { str_from_tw(table.rule_id) }.unwrap_or("");
        if found != rule_id {
            return Err(format!("margin rule table is `{found}`, not `{rule_id}`"));
        }
        Ok(FakeMarginRule { table })
    }

    /// Creates panel `panel_id` (GTK must be initialised, on this thread).
    #[cfg(feature = "gtk")]
    pub fn panel(&self, panel_id: &str) -> Result<FakePanel<'h>, String> {
        use gtk::glib::translate::FromGlibPtrFull;
        let table: crate::abi::TwPanelGtk4V1 =
            self.table(crate::abi::TW_CAP_PANEL_GTK4_V1, panel_id, v1_0_size::PANEL)?;
        let create = table.create.ok_or("panel table: null create")?;
        let (inst, _) = self.host.new_instance();
        let mut widget: *mut c_void = core::ptr::null_mut();
        // SAFETY: the host table and context are leaked; `widget` is a valid out pointer.
        let this = unsafe { create(self.host.api, inst, &mut widget) };
        if this.is_null() || widget.is_null() {
            return Err("panel create returned null".to_owned());
        }
        // SAFETY: the plugin handed a full reference to a GtkWidget.
        let widget = unsafe { gtk::Widget::from_glib_full(widget.cast::<gtk::ffi::GtkWidget>()) };
        Ok(FakePanel {
            table,
            this,
            widget,
            _host: core::marker::PhantomData,
        })
    }
}

/// Sends `event` through an `on_event` slot.
fn send(
    on_event: Option<unsafe extern "C" fn(*mut TwInstance, *const TwEventHeader) -> TwStatus>,
    this: *mut TwInstance,
    event: &Event<'_>,
) -> TwStatus {
    let Some(on_event) = on_event else {
        return TW_ERR_BAD_ARG;
    };
    let encoded = encode_event(event);
    // SAFETY: the record (and any string it borrows from `event`) lives through the call.
    unsafe { on_event(this, encoded.header()) }
}

/// A live strategy instance; destroyed on drop.
pub struct FakeStrategy<'h> {
    host: &'h FakeHost,
    table: TwStrategyV1,
    this: *mut TwInstance,
    /// The instance number intents are recorded under.
    pub instance: u32,
}

impl FakeStrategy<'_> {
    /// Delivers an event; answers the plugin's status.
    pub fn send(&mut self, event: &Event<'_>) -> TwStatus {
        send(self.table.on_event, self.this, event)
    }

    /// Delivers a raw record (e.g. of a kind the SDK does not know); `bytes` starts with a
    /// header whose `size` the caller sets.
    pub fn send_raw(&mut self, record: &[u64]) -> TwStatus {
        let Some(on_event) = self.table.on_event else {
            return TW_ERR_BAD_ARG;
        };
        // SAFETY: `record` is 8-aligned and alive through the call.
        unsafe { on_event(self.this, record.as_ptr().cast::<TwEventHeader>()) }
    }

    /// Delivers a one-minute bar whose open, high, low and close are all `close`.
    pub fn bar(&mut self, instrument_id: u32, close: Decimal) -> TwStatus {
        self.send(&Event::Bar(Bar {
            instrument_id,
            ts_unix_ns: 0,
            period_secs: 60,
            open: close,
            high: close,
            low: close,
            close,
            volume: Decimal::ZERO,
        }))
    }

    /// Delivers a two-sided quote.
    pub fn tick(&mut self, instrument_id: u32, bid: Decimal, ask: Decimal) -> TwStatus {
        self.send(&Event::Tick(Tick {
            instrument_id,
            ts_unix_ns: 0,
            bid: Some(bid),
            ask: Some(ask),
            last: None,
            bid_size: Some(Decimal::ONE),
            ask_size: Some(Decimal::ONE),
            last_size: None,
        }))
    }

    /// The host this instance lives in.
    pub fn host(&self) -> &FakeHost {
        self.host
    }
}

impl Drop for FakeStrategy<'_> {
    fn drop(&mut self) {
        if let Some(destroy) = self.table.destroy {
            // SAFETY: the instance `create` returned; no call follows.
            unsafe { destroy(self.this) };
        }
    }
}

/// A margin rule's table.
pub struct FakeMarginRule {
    table: TwMarginRuleV1,
}

impl FakeMarginRule {
    /// Calls `compute` on `input`: the decoded outcome, or the status and the reason written.
    pub fn compute(&self, input: &MarginInput) -> Result<MarginOutcome, (TwStatus, String)> {
        let compute = self.table.compute.ok_or((TW_ERR_BAD_ARG, String::new()))?;
        let legs = input.to_legs();
        let raw = input.to_raw(&legs);
        let mut reason: Vec<u8> = Vec::new();
        let mut out = TwMarginResult {
            struct_size: core::mem::size_of::<TwMarginResult>() as u32,
            outcome: TW_MARGIN_UNCHANGED,
            initial: Default::default(),
            maintenance: Default::default(),
            reason_user: (&mut reason as *mut Vec<u8>).cast(),
            write_reason: Some(collect),
        };
        // SAFETY: input, legs, result and the reason buffer all live through the call.
        let status = unsafe { compute(&raw, &mut out) };
        let reason = String::from_utf8_lossy(&reason).into_owned();
        if status != TW_OK {
            return Err((status, reason));
        }
        let (initial, maintenance) = (
            decimal_from_tw(out.initial),
            decimal_from_tw(out.maintenance),
        );
        match out.outcome {
            TW_MARGIN_UNCHANGED => Ok(MarginOutcome::Unchanged),
            TW_MARGIN_ADD_ON => Ok(MarginOutcome::AddOn {
                initial,
                maintenance,
                reason,
            }),
            TW_MARGIN_OVERRIDE => Ok(MarginOutcome::Override {
                initial,
                maintenance,
                reason,
            }),
            other => Err((TW_ERR_BAD_ARG, format!("unknown outcome {other}"))),
        }
    }
}

/// A live panel: its widget (owned by the test now) and instance; destroyed on drop.
#[cfg(feature = "gtk")]
pub struct FakePanel<'h> {
    table: crate::abi::TwPanelGtk4V1,
    this: *mut TwInstance,
    pub widget: gtk::Widget,
    _host: core::marker::PhantomData<&'h FakeHost>,
}

#[cfg(feature = "gtk")]
impl FakePanel<'_> {
    /// Delivers an event; answers the plugin's status.
    pub fn send(&mut self, event: &Event<'_>) -> TwStatus {
        send(self.table.on_event, self.this, event)
    }
}

#[cfg(feature = "gtk")]
impl Drop for FakePanel<'_> {
    fn drop(&mut self) {
        if let Some(destroy) = self.table.destroy {
            // SAFETY: the instance `create` returned; no call follows.
            unsafe { destroy(self.this) };
        }
    }
}

//! GTK 4 panels (`tickwork.panel.gtk4/1`, feature `gtk`). Every call comes on the GTK main
//! thread. The plugin links its own copy of gtk-rs, which does not know GTK is up until told:
//! the `create` thunk calls `gtk::set_initialized()` for it before the panel builds a widget,
//! then hands the widget over with a full reference (`into_glib_ptr`).
//!
//! GObject types a panel registers are process-wide: name them with [`crate::gtype_name!`].

use core::ffi::c_void;

use gtk::glib::translate::{IntoGlibPtr, ToGlibPtr};
use gtk::prelude::*;

use super::convert::str_to_tw;
use super::event::Event;
use super::export::{HasHost, InstanceCell, PluginMeta, create_host, destroy_cell};
use super::guard::guarded;
use super::host::{HostServices, PanelCtx, log_with};
use crate::abi::{
    TW_ERR, TW_ERR_BAD_ARG, TW_ERR_FAULTED, TW_ERR_PANICKED, TW_LOG_ERROR, TW_OK, TwEventHeader,
    TwHostApi, TwInstance, TwInstanceCtx, TwPanelGtk4V1, TwStatus,
};

/// A panel: a widget tree the host puts in a tab, fed events of its subscriptions (batched per
/// frame).
pub trait Panel: Sized + 'static {
    /// Reverse-DNS panel id, listed under `[provides] panels`.
    const PANEL_ID: &'static str;
    /// The tab title.
    const TITLE: &'static str;
    /// Smallest GTK 4 minor version the panel needs.
    const MIN_GTK_MINOR: u32 = 8;

    /// Builds the panel (GTK is usable here): its state and its root widget.
    fn create(ctx: &mut PanelCtx) -> Result<(Self, gtk::Widget), String>;

    /// Handles one event of the panel's subscriptions; `Err` faults the panel.
    fn on_event(&mut self, ctx: &mut PanelCtx, event: &Event<'_>) -> Result<(), String>;

    /// Called before the instance is freed, after its widget left the window.
    fn on_destroy(&mut self, _ctx: &mut PanelCtx) {}
}

impl HasHost for PanelCtx {
    fn host_table(&self) -> TwHostApi {
        self.0.table()
    }
}

/// The `tickwork.panel.gtk4/1` table of panel `T` of plugin `P`.
pub const fn panel_table<P: PluginMeta, T: Panel>() -> TwPanelGtk4V1 {
    TwPanelGtk4V1 {
        struct_size: core::mem::size_of::<TwPanelGtk4V1>() as u32,
        min_gtk_minor: T::MIN_GTK_MINOR,
        panel_id: str_to_tw(T::PANEL_ID),
        title: str_to_tw(T::TITLE),
        create: Some(panel_create::<P, T>),
        on_event: Some(panel_on_event::<T>),
        destroy: Some(panel_destroy::<T>),
    }
}

/// Tells this library's gtk-rs that GTK is initialised and this is the main thread (panics,
/// inside the guard, if GTK is not initialised or this is another thread).
fn ensure_gtk() {
    if !gtk::is_initialized_main_thread() {
        // SAFETY: `set_initialized` itself checks `gtk_is_initialized()` and the thread; the
        // ABI promises panel calls come on the host's GTK main thread.
        unsafe { gtk::set_initialized() };
    }
}

unsafe extern "C" fn panel_create<P: PluginMeta, T: Panel>(
    host: *const TwHostApi,
    inst: *mut TwInstanceCtx,
    out_widget: *mut *mut c_void,
) -> *mut TwInstance {
    // SAFETY: the ABI's contract for `create`.
    let Some(host) = (unsafe { create_host::<P>(host, inst) }) else {
        return core::ptr::null_mut();
    };
    if out_widget.is_null() {
        log_with(&host, TW_LOG_ERROR, "panel create: null out_widget");
        return core::ptr::null_mut();
    }
    let mut ctx = PanelCtx(HostServices::new(host, inst));
    let built = guarded(Some(&host), "panel.create", || {
        ensure_gtk();
        T::create(&mut ctx)
    });
    match built {
        Ok(Ok((value, widget))) => {
            let raw: *mut gtk::ffi::GtkWidget = widget.into_glib_ptr();
            // SAFETY: `out_widget` is non-null and writable (the ABI's contract).
            unsafe { *out_widget = raw.cast() };
            Box::into_raw(Box::new(InstanceCell {
                value,
                ctx,
                faulted: false,
            }))
            .cast()
        }
        Ok(Err(msg)) => {
            log_with(
                &host,
                TW_LOG_ERROR,
                &format!("{}: create refused: {msg}", T::PANEL_ID),
            );
            core::ptr::null_mut()
        }
        Err(_) => core::ptr::null_mut(),
    }
}

unsafe extern "C" fn panel_on_event<T: Panel>(
    this: *mut TwInstance,
    ev: *const TwEventHeader,
) -> TwStatus {
    if this.is_null() || ev.is_null() {
        return TW_ERR_BAD_ARG;
    }
    // SAFETY: an instance `panel_create` made, on the main thread only.
    let cell = unsafe { &mut *this.cast::<InstanceCell<T, PanelCtx>>() };
    if cell.faulted {
        return TW_ERR_FAULTED;
    }
    // SAFETY: the event is readable for its `size` during the call.
    let Some(event) = (unsafe { Event::decode(ev) }) else {
        return TW_OK;
    };
    let host = cell.ctx.host_table();
    let InstanceCell { value, ctx, .. } = cell;
    match guarded(Some(&host), "panel.on_event", || {
        value.on_event(ctx, &event)
    }) {
        Ok(Ok(())) => TW_OK,
        Ok(Err(msg)) => {
            log_with(&host, TW_LOG_ERROR, &format!("{}: {msg}", T::PANEL_ID));
            TW_ERR
        }
        Err(_) => {
            cell.faulted = true;
            TW_ERR_PANICKED
        }
    }
}

unsafe extern "C" fn panel_destroy<T: Panel>(this: *mut TwInstance) {
    // SAFETY: the ABI's contract: an instance `panel_create` made, no call follows.
    unsafe { destroy_cell::<T, PanelCtx>(this, "panel.destroy", |v, c| v.on_destroy(c)) }
}

unsafe extern "C" {
    fn gtk_accessible_update_property_value(
        accessible: *mut gtk::ffi::GtkAccessible,
        n_properties: core::ffi::c_int,
        properties: *mut gtk::ffi::GtkAccessibleProperty,
        values: *const gtk::glib::gobject_ffi::GValue,
    );
}

/// Sets what a screen reader calls `widget` (a cell drawn without text, an icon-only button).
/// gtk4-rs binds `gtk_accessible_update_property_value` only from GTK 4.10, although the C
/// function exists since 4.0; this calls it directly so panels keep working on GTK 4.8.
pub fn set_accessible_label(widget: &impl IsA<gtk::Widget>, label: &str) {
    let value = label.to_value();
    let mut properties = [gtk::ffi::GTK_ACCESSIBLE_PROPERTY_LABEL];
    // SAFETY: `widget` is a live GtkWidget, hence a GtkAccessible; one property id paired with
    // one string GValue, as the function requires for LABEL; GTK copies the value.
    unsafe {
        gtk_accessible_update_property_value(
            ToGlibPtr::<*mut gtk::ffi::GtkWidget>::to_glib_none(widget.as_ref()).0
                as *mut gtk::ffi::GtkAccessible,
            1,
            properties.as_mut_ptr(),
            value.to_glib_none().0,
        );
    }
}

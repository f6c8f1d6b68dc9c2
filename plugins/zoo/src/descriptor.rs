//! The descriptor and capability tables of each mode: the SDK's own, with the field or slot
//! the mode breaks replaced. Everything handed out is `'static` (built once per mode).

use core::ffi::c_void;
use std::sync::OnceLock;

use tickwork_plugin_api::abi::{
    TW_CAP_PANEL_GTK4_V1, TW_CAP_STRATEGY_V1, TwEventHeader, TwHostApi, TwInstance, TwInstanceCtx,
    TwPanelGtk4V1, TwPluginDescriptor, TwStatus, TwStr, TwStrategyV1,
};
use tickwork_plugin_api::sdk::export::{PluginMeta, Static};
use tickwork_plugin_api::sdk::guard::guarded;
use tickwork_plugin_api::sdk::{str_from_tw, str_to_tw};

use crate::mode::{self, Mode};
use crate::{__TickworkPlugin, tickwork_plugin_descriptor};

/// A descriptor 32 bytes longer than v1.0, as a newer SDK might write; the tail is zero.
#[repr(C)]
#[derive(Clone, Copy)]
struct LongDescriptor {
    base: TwPluginDescriptor,
    tail: [u64; 4],
}

static DESCRIPTORS: [OnceLock<Static<LongDescriptor>>; Mode::ALL.len()] =
    [const { OnceLock::new() }; Mode::ALL.len()];

/// What the entry returns in `mode`.
pub(crate) fn for_mode(mode: Mode) -> *const TwPluginDescriptor {
    if mode == Mode::NullDescriptor {
        return core::ptr::null();
    }
    let d = DESCRIPTORS[mode as usize].get_or_init(|| Static(build(mode)));
    &d.0.base
}

fn build(mode: Mode) -> LongDescriptor {
    let mut d = *tickwork_plugin_descriptor();
    d.get_capability = Some(zoo_get_capability);
    match mode {
        Mode::NullFn => d.init = None,
        Mode::WrongMajor => d.abi_major = 2,
        Mode::NewerMinor => d.abi_minor = 99,
        Mode::SmallDescriptor => d.struct_size = 40,
        Mode::BigDescriptor => d.struct_size = core::mem::size_of::<LongDescriptor>() as u32,
        Mode::BadUtf8Id => {
            const BAD: &[u8] = b"org.tickwork.zoo\xff";
            d.id = TwStr {
                ptr: BAD.as_ptr(),
                len: BAD.len(),
            };
        }
        Mode::IdMismatch => d.id = str_to_tw("org.tickwork.zoo.other"),
        _ => {}
    }
    LongDescriptor {
        base: d,
        tail: [0; 4],
    }
}

/// The SDK's `get_capability`, around which the modes are built.
fn sdk_capability(id: &str) -> *const c_void {
    let get = tickwork_plugin_descriptor()
        .get_capability
        .expect("the SDK always fills get_capability");
    // SAFETY: the id is borrowed for the call.
    unsafe { get(str_to_tw(id)) }
}

/// A copy of the SDK's strategy table with `edit` applied, made once.
fn strategy_copy(
    cell: &'static OnceLock<Static<TwStrategyV1>>,
    edit: fn(&mut TwStrategyV1),
) -> *const c_void {
    let t = cell.get_or_init(|| {
        let ptr = sdk_capability(TW_CAP_STRATEGY_V1).cast::<TwStrategyV1>();
        // SAFETY: the SDK's `'static` strategy table.
        let mut table = unsafe { *ptr };
        edit(&mut table);
        Static(table)
    });
    (&t.0 as *const TwStrategyV1).cast()
}

unsafe extern "C" fn zoo_get_capability(id: TwStr) -> *const c_void {
    // SAFETY: borrowed for the call.
    let Ok(id) = (unsafe { str_from_tw(id) }) else {
        return core::ptr::null();
    };
    let is_strategy = id.starts_with(TW_CAP_STRATEGY_V1);
    match mode::current() {
        Ok(Mode::PanicGetCapability) => {
            let host = <__TickworkPlugin as PluginMeta>::state().host();
            guarded(host.as_ref(), "get_capability", || -> *const c_void {
                panic!("zoo: panic in get_capability, as asked")
            })
            .unwrap_or(core::ptr::null())
        }
        Ok(Mode::NullCapability) => core::ptr::null(),
        Ok(Mode::SmallStrategyTable) if is_strategy => {
            static T: OnceLock<Static<TwStrategyV1>> = OnceLock::new();
            strategy_copy(&T, |t| t.struct_size = 8)
        }
        Ok(Mode::BadStatus) if is_strategy => {
            static T: OnceLock<Static<TwStrategyV1>> = OnceLock::new();
            strategy_copy(&T, |t| t.on_event = Some(bad_status_on_event))
        }
        Ok(Mode::NullCreate) if is_strategy => {
            static T: OnceLock<Static<TwStrategyV1>> = OnceLock::new();
            strategy_copy(&T, |t| t.create = Some(null_strategy_create))
        }
        Ok(Mode::NullCreate) if id.starts_with(TW_CAP_PANEL_GTK4_V1) => {
            static T: OnceLock<Static<TwPanelGtk4V1>> = OnceLock::new();
            let ptr = sdk_capability(id).cast::<TwPanelGtk4V1>();
            if ptr.is_null() {
                return ptr.cast();
            }
            let t = T.get_or_init(|| {
                // SAFETY: the SDK's `'static` panel table.
                let mut table = unsafe { *ptr };
                table.create = Some(null_panel_create);
                Static(table)
            });
            (&t.0 as *const TwPanelGtk4V1).cast()
        }
        _ => sdk_capability(id),
    }
}

unsafe extern "C" fn bad_status_on_event(_: *mut TwInstance, _: *const TwEventHeader) -> TwStatus {
    77
}

unsafe extern "C" fn null_strategy_create(
    _: *const TwHostApi,
    _: *mut TwInstanceCtx,
    _: TwStr,
) -> *mut TwInstance {
    core::ptr::null_mut()
}

unsafe extern "C" fn null_panel_create(
    _: *const TwHostApi,
    _: *mut TwInstanceCtx,
    _: *mut *mut c_void,
) -> *mut TwInstance {
    core::ptr::null_mut()
}

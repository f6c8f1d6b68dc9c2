//! The host table each plugin receives (`TwHostApi`): its own leaked context (id and granted
//! permissions), a `log` that writes to the host's log under the plugin's id, and a
//! `get_service` that hands out only the service tables its permissions allow.

use core::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use tickwork_plugin_api::abi::{
    TW_ABI_MAJOR, TW_ABI_MINOR, TW_LOG_DEBUG, TW_LOG_ERROR, TW_LOG_INFO, TW_LOG_WARN, TwHostApi,
    TwHostCtx, TwStr, v1_0_size,
};

use super::capability::HostApiRef;
use super::permissions::Permissions;

/// The host's version as plugins see it.
const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Longest log line taken from a plugin (the rest is cut, marked with `…`).
const MAX_LOG_BYTES: usize = 4096;

/// What `TwHostCtx` points to: one per loaded plugin, leaked (plugins are never unloaded).
#[derive(Debug)]
pub struct HostCtx {
    pub plugin_id: String,
    /// What the user granted at trust time.
    pub permissions: Permissions,
    /// The plugin's last error-level log line (its panic message, say): quoted in the reason
    /// when a call into it fails.
    last_error: std::sync::Mutex<Option<String>>,
}

impl HostCtx {
    /// Takes the plugin's last error-level log line, if it logged one since the last take.
    pub fn take_last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

/// The context of a host table made by [`build`].
pub fn ctx(api: HostApiRef) -> &'static HostCtx {
    // SAFETY: every `HostApiRef` the loader hands out comes from `build`, whose context is
    // leaked.
    unsafe { ctx_of(api.0.ctx) }.expect("built with a context")
}

/// Builds the host table for a plugin; it lives for the rest of the process.
pub fn build(plugin_id: &str, permissions: &Permissions) -> HostApiRef {
    let ctx: &'static mut HostCtx = Box::leak(Box::new(HostCtx {
        plugin_id: plugin_id.to_owned(),
        permissions: permissions.clone(),
        last_error: std::sync::Mutex::new(None),
    }));
    let api: &'static TwHostApi = Box::leak(Box::new(TwHostApi {
        struct_size: v1_0_size::HOST_API,
        abi_major: TW_ABI_MAJOR,
        abi_minor: TW_ABI_MINOR,
        ctx: (ctx as *mut HostCtx).cast::<TwHostCtx>(),
        host_version: tw_str(HOST_VERSION),
        log: Some(log),
        get_service: Some(get_service),
    }));
    HostApiRef(api)
}

/// The context behind a host table's `ctx` pointer.
///
/// # Safety
/// `ctx` must be null or a pointer made by [`build`].
pub unsafe fn ctx_of<'a>(ctx: *mut TwHostCtx) -> Option<&'a HostCtx> {
    // SAFETY: per the contract, a pointer from `build`: a leaked, never-freed `HostCtx`.
    unsafe { ctx.cast::<HostCtx>().as_ref() }
}

/// A `'static` Rust string as a `TwStr`.
pub fn tw_str(s: &'static str) -> TwStr {
    TwStr {
        ptr: s.as_ptr(),
        len: s.len(),
    }
}

/// The bytes of a `TwStr`, or `None` when it is null with a length.
///
/// # Safety
/// A non-null `s.ptr` must point to `s.len` readable bytes for `'a`.
pub unsafe fn tw_bytes<'a>(s: TwStr) -> Option<&'a [u8]> {
    if s.len == 0 {
        return Some(&[]);
    }
    if s.ptr.is_null() || s.len > isize::MAX as usize {
        return None;
    }
    // SAFETY: non-null with `len` readable bytes, per the contract.
    Some(unsafe { std::slice::from_raw_parts(s.ptr, s.len) })
}

unsafe extern "C" fn log(ctx: *mut TwHostCtx, level: u32, msg: TwStr) {
    // Nothing may unwind into the plugin.
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `ctx` is what `build` put in the table the plugin was given.
        let Some(ctx) = (unsafe { ctx_of(ctx) }) else {
            return;
        };
        // SAFETY: the ABI makes `msg` valid for the call.
        let Some(bytes) = (unsafe { tw_bytes(msg) }) else {
            tracing::warn!(plugin = %ctx.plugin_id, "plugin logged a null message");
            return;
        };
        let cut = bytes.len() > MAX_LOG_BYTES;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_LOG_BYTES)]);
        let text = if cut {
            format!("{text}…")
        } else {
            text.into_owned()
        };
        let plugin = ctx.plugin_id.as_str();
        match level {
            TW_LOG_ERROR => {
                tracing::error!(plugin, "{text}");
                *ctx.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(text);
            }
            TW_LOG_WARN => tracing::warn!(plugin, "{text}"),
            TW_LOG_INFO => tracing::info!(plugin, "{text}"),
            TW_LOG_DEBUG => tracing::debug!(plugin, "{text}"),
            _ => tracing::trace!(plugin, level, "{text}"),
        }
    }));
}

unsafe extern "C" fn get_service(ctx: *mut TwHostCtx, id: TwStr) -> *const c_void {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `ctx` is what `build` put in the table the plugin was given.
        let Some(ctx) = (unsafe { ctx_of(ctx) }) else {
            return std::ptr::null();
        };
        // SAFETY: the ABI makes `id` valid for the call.
        let Some(id) = (unsafe { tw_bytes(id) }).and_then(|b| std::str::from_utf8(b).ok()) else {
            return std::ptr::null();
        };
        let table = super::services::table(id, &ctx.permissions);
        if table.is_null() {
            tracing::debug!(plugin = %ctx.plugin_id, service = id, "service refused or unknown");
        }
        table
    }))
    .unwrap_or(std::ptr::null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_the_plugin_and_survives_bad_input() {
        let perms = Permissions {
            storage: true,
            ..Permissions::default()
        };
        let HostApiRef(api) = build("com.example.rule", &perms);
        assert_eq!(api.struct_size, v1_0_size::HOST_API);
        // SAFETY: the pointer comes from `build`.
        let ctx = unsafe { ctx_of(api.ctx) }.unwrap();
        assert_eq!(ctx.plugin_id, "com.example.rule");
        assert_eq!(ctx.permissions, perms);
        // SAFETY: the version string is 'static.
        let version = unsafe { tw_bytes(api.host_version) }.unwrap();
        assert_eq!(version, HOST_VERSION.as_bytes());
        let log = api.log.unwrap();
        // SAFETY: valid context; a null message with a length is refused, not read.
        unsafe {
            log(api.ctx, TW_LOG_INFO, tw_str("hello"));
            log(api.ctx, TW_LOG_ERROR, tw_str("it broke"));
            log(
                api.ctx,
                99,
                TwStr {
                    ptr: std::ptr::null(),
                    len: 5,
                },
            );
            log(std::ptr::null_mut(), TW_LOG_INFO, tw_str("nobody"));
        }
        assert_eq!(ctx.take_last_error().as_deref(), Some("it broke"));
        assert_eq!(ctx.take_last_error(), None);
        let get = api.get_service.unwrap();
        // SAFETY: as above.
        let unknown = unsafe { get(api.ctx, tw_str("tickwork.host.nothing/1")) };
        assert!(unknown.is_null());
        // SAFETY: as above.
        let bad = unsafe {
            get(
                api.ctx,
                TwStr {
                    ptr: b"\xff\xfe".as_ptr(),
                    len: 2,
                },
            )
        };
        assert!(bad.is_null());
    }
}

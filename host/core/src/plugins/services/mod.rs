//! The host services a plugin reaches through `get_service`: order intents, market data and its
//! own key-value namespace. Each is a `'static` table of `extern "C"` functions; the permission
//! check happens both here (no table without the permission) and on every call.

use core::ffi::c_void;

use super::permissions::Permissions;

/// The table of service `id` for a plugin holding `permissions`, or null.
pub fn table(id: &str, permissions: &Permissions) -> *const c_void {
    let _ = (id, permissions);
    core::ptr::null()
}

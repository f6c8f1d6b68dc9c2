//! `tickwork.host.kv-store/1`: small values in PostgreSQL under the plugin's id, so instances
//! of one plugin share them and no plugin reads another's.

use core::ffi::c_void;

use tickwork_plugin_api::abi::{
    TW_ERR, TW_ERR_BAD_ARG, TW_ERR_DENIED, TW_ERR_FAULTED, TW_ERR_NOT_FOUND, TW_OK, TwHostKvV1,
    TwInstanceCtx, TwStatus, TwStr, TwWriteFn,
};

use super::ctx::InstanceCtx;
use super::guarded;
use super::values::read_str;
use crate::store::plugin_kv;

/// Longest key (bytes).
pub const MAX_KEY_BYTES: usize = plugin_kv::MAX_KEY_BYTES;
/// Largest value (bytes).
pub const MAX_VALUE_BYTES: usize = plugin_kv::MAX_VALUE_BYTES;

pub(super) const TABLE: TwHostKvV1 = TwHostKvV1 {
    struct_size: size_of::<TwHostKvV1>() as u32,
    _reserved: 0,
    put: Some(put),
    get: Some(get),
};

/// The context of a kv call that may go on, and its key; or the status that ends it.
///
/// # Safety
/// `inst` and `key` as the ABI passes them (valid for the call).
unsafe fn checked<'a>(
    inst: *mut TwInstanceCtx,
    key: TwStr,
) -> Result<(&'a InstanceCtx, &'a str), TwStatus> {
    // SAFETY: the host's context pointers stay valid while the plugin may call.
    let ctx = unsafe { InstanceCtx::from_raw(inst) }.ok_or(TW_ERR_BAD_ARG)?;
    if !ctx.life.accepts_calls() {
        return Err(TW_ERR_FAULTED);
    }
    if !ctx.permissions.storage {
        return Err(TW_ERR_DENIED);
    }
    // SAFETY: the plugin's string is valid for the call.
    let key = unsafe { read_str(key) }.ok_or(TW_ERR_BAD_ARG)?;
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.contains('\0') {
        return Err(TW_ERR_BAD_ARG);
    }
    Ok((ctx, key))
}

unsafe extern "C" fn put(inst: *mut TwInstanceCtx, key: TwStr, value: TwStr) -> TwStatus {
    guarded(|| {
        // SAFETY: as the ABI passes them.
        let (ctx, key) = match unsafe { checked(inst, key) } {
            Ok(found) => found,
            Err(status) => return status,
        };
        // SAFETY: the plugin's string is valid for the call.
        let Some(value) = (unsafe { read_str(value) }) else {
            return TW_ERR_BAD_ARG;
        };
        if value.len() > MAX_VALUE_BYTES {
            return TW_ERR_BAD_ARG;
        }
        let (pool, plugin, key, value) = (
            ctx.pool.clone(),
            ctx.plugin_id.clone(),
            key.to_owned(),
            value.as_bytes().to_vec(),
        );
        match ctx.block_on(async move { plugin_kv::put(&pool, &plugin, &key, &value).await }) {
            Some(Ok(())) => TW_OK,
            Some(Err(e)) => {
                tracing::error!(origin = %ctx.origin(), error = %e, "kv put failed");
                TW_ERR
            }
            None => TW_ERR,
        }
    })
}

unsafe extern "C" fn get(
    inst: *mut TwInstanceCtx,
    key: TwStr,
    user: *mut c_void,
    write: Option<TwWriteFn>,
) -> TwStatus {
    guarded(|| {
        // SAFETY: as the ABI passes them.
        let (ctx, key) = match unsafe { checked(inst, key) } {
            Ok(found) => found,
            Err(status) => return status,
        };
        let Some(write) = write else {
            return TW_ERR_BAD_ARG;
        };
        let (pool, plugin, key) = (ctx.pool.clone(), ctx.plugin_id.clone(), key.to_owned());
        match ctx.block_on(async move { plugin_kv::get(&pool, &plugin, &key).await }) {
            Some(Ok(Some(value))) => {
                // SAFETY: the plugin's sink takes `len` bytes it copies before returning.
                unsafe { write(user, value.as_ptr(), value.len()) };
                TW_OK
            }
            Some(Ok(None)) => TW_ERR_NOT_FOUND,
            Some(Err(e)) => {
                tracing::error!(origin = %ctx.origin(), error = %e, "kv get failed");
                TW_ERR
            }
            None => TW_ERR,
        }
    })
}

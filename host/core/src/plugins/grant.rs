//! The user's decisions about plugins, each recorded in the audit log: trusting a bundle (this
//! exact library with the permissions its manifest asks for), revoking that trust, and
//! switching a trusted plugin on or off. The Plugins panel and `tickwork plugins` both come
//! through here. Nothing of the plugin runs.

use std::path::Path;

use serde_json::{Value, json};
use sqlx::PgPool;

use super::manifest::{self, MANIFEST_FILE};
use super::trust;
use crate::store::audit::{self, AuditEntry};
use crate::store::plugins::{self as store, TrustedPlugin};

/// Reads `dir`'s manifest, checks it can run here (`gtk_minor`: the running GTK, `None`
/// without one), hashes its library (checked against the manifest's own hash when it has one)
/// and records the grant; an error is one line naming the bundle and what is wrong.
pub async fn trust_bundle(
    pool: &PgPool,
    dir: &Path,
    gtk_minor: Option<u32>,
    actor: &str,
) -> Result<TrustedPlugin, String> {
    let shown = dir.display();
    let manifest = manifest::load(&dir.join(MANIFEST_FILE)).map_err(|e| e.to_string())?;
    trust::check_compatible(&manifest, gtk_minor)
        .map_err(|e| format!("{shown}: not trusted: {e}"))?;
    let hash =
        trust::library_hash(dir, &manifest).map_err(|e| format!("{shown}: not trusted: {e}"))?;
    let permissions = manifest.permissions.to_strings();
    let trusted = store::trust(pool, &manifest.id, &manifest.version, &hash, &permissions)
        .await
        .map_err(|e| format!("{shown}: the allowlist refused it: {e}"))?;
    let details = json!({
        "version": manifest.version,
        "sha256": hash,
        "permissions": permissions,
        "bundle": dir.display().to_string(),
    });
    record(pool, actor, "plugin.trust", &manifest.id, details).await;
    Ok(trusted)
}

/// Forgets the trust in `id` (it asks again); `false` when it was not trusted.
pub async fn revoke(pool: &PgPool, id: &str, actor: &str) -> Result<bool, String> {
    let done = store::revoke(pool, id).await.map_err(|e| e.to_string())?;
    if done {
        record(pool, actor, "plugin.revoke", id, json!({})).await;
    }
    Ok(done)
}

/// Switches a trusted plugin on or off; `false` when it is not trusted.
pub async fn set_enabled(
    pool: &PgPool,
    id: &str,
    enabled: bool,
    actor: &str,
) -> Result<bool, String> {
    let reason = (!enabled).then_some("disabled by the user");
    let done = store::set_enabled(pool, id, enabled, reason)
        .await
        .map_err(|e| e.to_string())?;
    if done {
        let action = if enabled {
            "plugin.enable"
        } else {
            "plugin.disable"
        };
        record(pool, actor, action, id, json!({})).await;
    }
    Ok(done)
}

async fn record(pool: &PgPool, actor: &str, action: &str, id: &str, details: Value) {
    let entry = AuditEntry {
        actor: actor.into(),
        action: action.into(),
        decision: None,
        reason: None,
        details: json!({ "plugin": id, "details": details }),
    };
    if let Err(e) = audit::append(pool, &entry).await {
        tracing::warn!("{action} {id}: not audited: {e}");
    }
}

//! Trusting a bundle: the user's "yes" to this exact library with the permissions its
//! manifest asks for, stored in the allowlist (from the Plugins panel or `tickwork plugins
//! trust`). Nothing of the plugin runs here.

use std::path::Path;

use sqlx::PgPool;

use super::manifest::{self, MANIFEST_FILE};
use super::trust;
use crate::store::plugins::{self as store, TrustedPlugin};

/// Reads `dir`'s manifest, hashes its library (checked against the manifest's own hash when
/// it has one) and records the grant; an error is one line naming what is wrong.
pub async fn trust_bundle(pool: &PgPool, dir: &Path) -> Result<TrustedPlugin, String> {
    let manifest = manifest::load(&dir.join(MANIFEST_FILE)).map_err(|e| e.to_string())?;
    let hash = trust::library_hash(dir, &manifest)?;
    store::trust(
        pool,
        &manifest.id,
        &manifest.version,
        &hash,
        &manifest.permissions.to_strings(),
    )
    .await
    .map_err(|e| format!("{}: the allowlist refused it: {e}", dir.display()))
}

//! Native plugins: the bundles found at start-up (loaded by the window on the GTK main thread,
//! where a plugin's `init` and its panels must run), and the Plugins panel's list and controls
//! (trust, revoke, enable, disable).

use std::path::PathBuf;
use std::sync::Arc;

use sqlx::PgPool;
use tickwork_core::plugins::strategy::PluginInstanceInfo;
use tickwork_core::plugins::{PluginEnv, PluginReport};

/// What the backend found once the database was open: the window loads the eligible bundles.
#[derive(Debug, Clone)]
pub struct PluginsFound {
    pub env: PluginEnv,
    pub reports: Vec<PluginReport>,
    /// For the plugin panels' host services (their key-value store).
    pub pool: PgPool,
}

#[derive(Debug, Clone)]
pub enum PluginsCommand {
    /// Every bundle on the search path; answered with [`PluginsEvent::Listed`].
    List,
    /// Trust the bundle's library as it is now, with the permissions it asks for.
    Trust {
        bundle: PathBuf,
    },
    /// Forget the trust: it asks again next time.
    Revoke {
        id: String,
    },
    SetEnabled {
        id: String,
        enabled: bool,
    },
    /// The window loaded the bundles of [`PluginsEvent::Discovered`]: record the outcome.
    Loaded(Vec<PluginReport>),
    /// Run a loaded plugin's strategy on paper on `account` (parameters: a JSON object).
    RunStrategy {
        type_id: String,
        params_json: String,
        account: String,
    },
    StopStrategy {
        id: String,
    },
}

#[derive(Debug, Clone)]
pub enum PluginsEvent {
    /// Sent once, after the database opened.
    Discovered(Arc<PluginsFound>),
    /// The search path, in order, and every bundle found on it.
    Listed {
        search_path: Vec<PathBuf>,
        reports: Vec<PluginReport>,
    },
    /// A change was made: what to tell the trader; the list follows.
    Changed(String),
    /// The plugin strategies running now, and the latest thing one of them reported.
    Strategies {
        running: Vec<PluginInstanceInfo>,
        latest: Option<String>,
    },
}

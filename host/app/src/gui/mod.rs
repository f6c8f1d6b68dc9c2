//! The desktop app: a relm4/libadwaita workbench over `tickwork-core`.
//!
//! The GTK main thread only draws; everything that touches the network or the database runs
//! in the backend on the core runtime and talks to the window through the typed boundary in
//! [`boundary`] (see `docs/architecture.md`).

pub mod a11y;
mod backend;
pub mod boundary;
pub mod frame;
pub mod panels;
pub mod screenshot;
mod shell;
pub mod workspace;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use gtk::prelude::*;
use tickwork_core::store::DatabaseTarget;

pub use backend::StartOptions;

/// Script checks and backtests exactly as the backend runs them (the GUI tests answer the
/// Scripts panel's commands with these).
/// The Plugins panel's backend, for tests that answer its commands as the window does.
pub mod plugin_jobs {
    pub use super::backend::plugins::answer;
}

pub mod script_jobs {
    pub use super::backend::backtest::run as backtest;
    pub use super::backend::scripts::{check, engine};
}
use shell::window::{MainWindow, MainWindowInit};

/// The application id (reverse-DNS), also the desktop file and settings name.
pub const APP_ID: &str = "org.tickwork.Tickwork";

/// Runs the window until it is closed; then stops the backend: the session, the demo
/// simulator, and the database (stopping the embedded server if this was its last user).
pub fn run(
    target: DatabaseTarget,
    demo: bool,
    profile: Option<String>,
    screenshot: Option<PathBuf>,
) -> anyhow::Result<()> {
    let plugins = match tickwork_core::paths::AppPaths::from_env() {
        Ok(paths) => Some(tickwork_core::plugins::PluginEnv::from_paths(
            &paths,
            Some(gtk::minor_version()),
        )),
        Err(err) => {
            tracing::warn!("plugins are off: {err}");
            None
        }
    };
    let options = StartOptions {
        target,
        demo,
        profile,
        plugins,
    };
    run_window(options, screenshot, panels::PanelRegistry::builtin())
}

/// [`run`] with the panels of `registry` (the built-in ones, plus plugins'); the GUI tests call
/// it with work already queued on the GTK main context.
pub fn run_window(
    options: StartOptions,
    screenshot: Option<PathBuf>,
    registry: panels::PanelRegistry,
) -> anyhow::Result<()> {
    let runtime = crate::context::runtime()?;
    let running: Arc<Mutex<Option<backend::Running>>> = Arc::default();
    let app = relm4::RelmApp::new(APP_ID);
    // The icon `dev/install.sh` installs into the theme, named after the app id.
    gtk::Window::set_default_icon_name(APP_ID);
    // Several workbenches (different profiles, or a test beside a real one) may run at once.
    relm4::main_application().set_flags(gtk::gio::ApplicationFlags::NON_UNIQUE);
    let exit = Arc::new(Mutex::new(Ok(())));
    app.with_args(Vec::new()).run::<MainWindow>(MainWindowInit {
        runtime: runtime.handle().clone(),
        options,
        screenshot,
        running: running.clone(),
        exit: exit.clone(),
        registry,
    });
    let running = running
        .lock()
        .map_err(|_| anyhow::anyhow!("backend lock poisoned"))?
        .take();
    if let Some(running) = running {
        runtime.block_on(running.shutdown());
    }
    // After the backend stopped: each plugin's `shutdown`, and the crash journal marked clean
    // (an exit without it reads as a crash only if a plugin call was in progress).
    tickwork_core::plugins::registry::shutdown_all();
    let mut exit = exit
        .lock()
        .map_err(|_| anyhow::anyhow!("exit lock poisoned"))?;
    std::mem::replace(&mut *exit, Ok(()))
}

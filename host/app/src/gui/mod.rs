//! The desktop app: a relm4/libadwaita window over `tickwork-core`.
//!
//! The GTK main thread only draws; everything that touches the network or the database runs
//! on the core runtime and reports back with a message.

mod main_window;
mod screenshot;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use gtk::prelude::*;
use tickwork_core::store::{DatabaseTarget, OpenStore};

use main_window::{MainWindow, MainWindowInit};

/// The application id (reverse-DNS), also the desktop file and settings name.
pub const APP_ID: &str = "org.tickwork.Tickwork";

/// Runs the window until it is closed; then closes the database (stopping the embedded
/// server if this was its last user).
pub fn run(target: DatabaseTarget, demo: bool, screenshot: Option<PathBuf>) -> anyhow::Result<()> {
    let runtime = crate::context::runtime()?;
    let store_slot: Arc<Mutex<Option<OpenStore>>> = Arc::default();
    let app = relm4::RelmApp::new(APP_ID);
    // Several workbenches (different profiles, or a test beside a real one) may run at once.
    relm4::main_application().set_flags(gtk::gio::ApplicationFlags::NON_UNIQUE);
    let exit = Arc::new(Mutex::new(Ok(())));
    app.with_args(Vec::new()).run::<MainWindow>(MainWindowInit {
        runtime: runtime.handle().clone(),
        target,
        demo,
        screenshot,
        store_slot: store_slot.clone(),
        exit: exit.clone(),
    });
    let opened = store_slot
        .lock()
        .map_err(|_| anyhow::anyhow!("store lock poisoned"))?
        .take();
    if let Some(opened) = opened {
        runtime.block_on(opened.close())?;
    }
    let mut exit = exit
        .lock()
        .map_err(|_| anyhow::anyhow!("exit lock poisoned"))?;
    std::mem::replace(&mut *exit, Ok(()))
}

//! The window around the panels: header bar, sidebar, workspace, dialogs.

mod dialogs;
mod header;
mod plugins;
mod preferences;
mod profiles;
mod sidebar;
pub mod window;

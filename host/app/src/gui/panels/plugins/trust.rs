//! The trust-on-first-use question: what the trader is about to let run in the workbench.

use adw::prelude::*;

use tickwork_core::plugins::PluginReport;

/// Asks before trusting `entry`'s library; `trust` runs only on the explicit answer.
pub fn confirm(anchor: &impl IsA<gtk::Widget>, entry: &PluginReport, trust: impl Fn() + 'static) {
    let window = anchor.root().and_downcast::<gtk::Window>();
    let permissions = if entry.permissions_asked.is_empty() {
        "no permissions".to_owned()
    } else {
        entry
            .permissions_asked
            .iter()
            .map(|p| format!("• {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let body = format!(
        "{} {} runs native code inside the workbench with your user's rights. It asks for:\n\
         {permissions}\n\nLibrary SHA-256:\n{}\n\nOnly trust plugins from people you trust. \
         A changed library will ask again.",
        entry.id,
        entry.version.as_deref().unwrap_or("?"),
        entry.sha256.as_deref().unwrap_or("unreadable"),
    );
    let dialog = adw::MessageDialog::new(
        window.as_ref(),
        Some(&format!("Trust {}?", entry.id)),
        Some(&body),
    );
    dialog.add_responses(&[("cancel", "_Cancel"), ("trust", "_Trust")]);
    dialog.set_response_appearance("trust", adw::ResponseAppearance::Destructive);
    dialog.set_default_response(Some("cancel"));
    dialog.set_close_response("cancel");
    dialog.set_widget_name("confirm-trust");
    dialog.connect_response(None, move |_, response| {
        if response == "trust" {
            trust();
        }
    });
    dialog.present();
}

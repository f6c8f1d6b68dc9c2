//! The small windows of the shell: the arming confirmation, the about dialog, the keyboard
//! shortcuts window, and the window-level shortcuts themselves.

use std::rc::Rc;

use adw::prelude::*;
use gtk::{gio, glib};
use relm4::ComponentSender;

use super::header::Header;
use super::window::{MainMsg, MainWindow};
use crate::gui::workspace::Workspace;

/// Arming asks first: from then on orders for the account are sent to TWS.
pub fn confirm_arm(
    window: &adw::ApplicationWindow,
    account: String,
    sender: ComponentSender<MainWindow>,
) {
    let dialog = adw::MessageDialog::new(
        Some(window),
        Some(&format!("Arm trading on {account}?")),
        Some(
            "Orders from the ticket, scripts and plugins that pass the risk gate will be sent to \
             TWS for this account. Disarm or use the kill switch to stop.",
        ),
    );
    dialog.add_responses(&[("cancel", "_Cancel"), ("arm", "_Arm")]);
    dialog.set_response_appearance("arm", adw::ResponseAppearance::Destructive);
    dialog.set_default_response(Some("cancel"));
    dialog.set_close_response("cancel");
    dialog.set_widget_name("confirm-arm");
    dialog.connect_response(None, move |_, response| {
        if response == "arm" {
            sender.input(MainMsg::ArmConfirmed(account.clone()));
        }
    });
    dialog.present();
}

fn about(window: &adw::ApplicationWindow) {
    let about = adw::AboutWindow::builder()
        .transient_for(window)
        .application_name("Tickwork")
        .application_icon(crate::gui::APP_ID)
        .version(env!("CARGO_PKG_VERSION"))
        .developer_name("The Tickwork developers")
        .license_type(gtk::License::Gpl30)
        .comments(
            "A trading workbench for Interactive Brokers: live data, orders through one risk \
             gate, IB's margin rules, scripts and plugins.",
        )
        .build();
    about.present();
}

const SHORTCUTS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<interface>
  <object class="GtkShortcutsWindow" id="shortcuts">
    <property name="modal">1</property>
    <child>
      <object class="GtkShortcutsSection">
        <property name="section-name">workbench</property>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">Trading</property>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Kill switch: disarm all, cancel all</property>
              <property name="accelerator">&lt;Control&gt;&lt;Shift&gt;k</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Arm or disarm the selected account</property>
              <property name="accelerator">&lt;Control&gt;&lt;Shift&gt;a</property>
            </object></child>
          </object>
        </child>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">Panels</property>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Open the n-th panel of the sidebar</property>
              <property name="accelerator">&lt;Alt&gt;1...9</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Close the current tab</property>
              <property name="accelerator">&lt;Control&gt;w</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Next and previous tab</property>
              <property name="accelerator">&lt;Control&gt;Page_Down &lt;Control&gt;Page_Up</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Show or hide the sidebar</property>
              <property name="accelerator">F9</property>
            </object></child>
          </object>
        </child>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">Scripts</property>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Check the script</property>
              <property name="accelerator">&lt;Control&gt;Return</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Save the script</property>
              <property name="accelerator">&lt;Control&gt;s</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Run the backtest</property>
              <property name="accelerator">&lt;Control&gt;b</property>
            </object></child>
          </object>
        </child>
        <child>
          <object class="GtkShortcutsGroup">
            <property name="title">General</property>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Preferences</property>
              <property name="accelerator">&lt;Control&gt;comma</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Connection profiles</property>
              <property name="accelerator">&lt;Control&gt;&lt;Shift&gt;p</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Main menu</property>
              <property name="accelerator">F10</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Keyboard shortcuts</property>
              <property name="accelerator">&lt;Control&gt;question</property>
            </object></child>
            <child><object class="GtkShortcutsShortcut">
              <property name="title">Quit</property>
              <property name="accelerator">&lt;Control&gt;q</property>
            </object></child>
          </object>
        </child>
      </object>
    </child>
  </object>
</interface>"#;

/// Window shortcuts, the shortcuts window (`win.show-help-overlay`, Ctrl+?) and About.
pub fn install(
    window: &adw::ApplicationWindow,
    header: &Rc<Header>,
    workspace: &Rc<Workspace>,
    sender: &ComponentSender<MainWindow>,
) {
    let app = relm4::main_application();
    let builder = gtk::Builder::from_string(SHORTCUTS);
    if let Some(shortcuts) = builder.object::<gtk::ShortcutsWindow>("shortcuts") {
        window.set_help_overlay(Some(&shortcuts));
    }
    app.set_accels_for_action("win.show-help-overlay", &["<Control>question"]);

    let about_action = gio::SimpleAction::new("about", None);
    let weak = window.downgrade();
    about_action.connect_activate(move |_, _| {
        if let Some(window) = weak.upgrade() {
            about(&window);
        }
    });
    app.add_action(&about_action);

    let quit = gio::SimpleAction::new("quit", None);
    let weak = window.downgrade();
    quit.connect_activate(move |_, _| {
        if let Some(window) = weak.upgrade() {
            window.close();
        }
    });
    app.add_action(&quit);
    app.set_accels_for_action("app.quit", &["<Control>q"]);

    let toggle = gio::SimpleAction::new("toggle-sidebar", None);
    let button = header.sidebar_button.clone();
    toggle.connect_activate(move |_, _| button.set_active(!button.is_active()));
    window.add_action(&toggle);
    app.set_accels_for_action("win.toggle-sidebar", &["F9"]);

    let close = gio::SimpleAction::new("close-tab", None);
    let weak = Rc::downgrade(workspace);
    close.connect_activate(move |_, _| {
        if let Some(workspace) = weak.upgrade() {
            workspace.close_current();
        }
    });
    window.add_action(&close);
    app.set_accels_for_action("win.close-tab", &["<Control>w"]);

    let open = gio::SimpleAction::new("open-panel", Some(glib::VariantTy::STRING));
    let input = sender.input_sender().clone();
    open.connect_activate(move |_, target| {
        if let Some(id) = target.and_then(|t| t.get::<String>()) {
            input.emit(MainMsg::OpenPanel(id));
        }
    });
    window.add_action(&open);
    for (index, provider) in workspace.registry().providers().iter().take(9).enumerate() {
        let detailed = format!("win.open-panel(\"{}\")", provider.id);
        app.set_accels_for_action(&detailed, &[&format!("<Alt>{}", index + 1)]);
    }
}

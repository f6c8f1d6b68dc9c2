//! Creating and editing connection profiles in the app: where TWS or IB Gateway listens, the
//! client id, the account, and whether the profile may trade at all.

use adw::prelude::*;
use tickwork_core::store::profiles::ConnectionProfile;

use crate::gui::boundary::{Commands, SessionCommand};

pub fn show(parent: &adw::ApplicationWindow, profiles: &[ConnectionProfile], commands: Commands) {
    let window = adw::PreferencesWindow::builder()
        .transient_for(parent)
        .modal(true)
        .title("Connection Profiles")
        .search_enabled(false)
        .build();
    let page = adw::PreferencesPage::new();
    let intro = adw::PreferencesGroup::builder()
        .description(
            "TWS listens on 7497 (paper) or 7496 (live), IB Gateway on 4002 or 4001. Enable \
             “ActiveX and Socket Clients” in TWS's API settings. New profiles are read-only \
             until you allow trading.",
        )
        .build();
    page.add(&intro);
    page.add(&editor(&window, None, commands.clone()));
    for profile in profiles {
        page.add(&editor(&window, Some(profile), commands.clone()));
    }
    window.add(&page);
    window.present();
}

fn switch_row(title: &str, subtitle: &str, active: bool) -> (adw::ActionRow, gtk::Switch) {
    let switch = gtk::Switch::builder()
        .active(active)
        .valign(gtk::Align::Center)
        .build();
    let row = adw::ActionRow::builder()
        .title(title)
        .subtitle(subtitle)
        .activatable_widget(&switch)
        .build();
    row.add_suffix(&switch);
    (row, switch)
}

/// One profile's form (or an empty one for a new profile).
fn editor(
    window: &adw::PreferencesWindow,
    existing: Option<&ConnectionProfile>,
    commands: Commands,
) -> adw::PreferencesGroup {
    let profile = existing
        .cloned()
        .unwrap_or_else(|| ConnectionProfile::local_paper(""));
    let group = adw::PreferencesGroup::builder()
        .title(if existing.is_some() {
            profile.name.as_str()
        } else {
            "New Profile"
        })
        .build();
    let name = adw::EntryRow::builder()
        .title("Name")
        .text(&profile.name)
        .build();
    name.set_widget_name("profile-name");
    let host = adw::EntryRow::builder()
        .title("Host")
        .text(&profile.host)
        .build();
    let port = adw::EntryRow::builder()
        .title("Port")
        .text(profile.port.to_string())
        .build();
    let client = adw::EntryRow::builder()
        .title("Client id")
        .text(profile.client_id.to_string())
        .build();
    let account = adw::EntryRow::builder()
        .title("Account (empty: the first TWS reports)")
        .text(profile.account.clone().unwrap_or_default())
        .build();
    let (read_only_row, read_only) = switch_row(
        "Read-only",
        "No order ever leaves the workbench",
        profile.read_only,
    );
    let (remote_row, remote) = switch_row(
        "Allow a remote host",
        "The TWS API is unencrypted: only on a network you trust",
        profile.allow_remote,
    );
    let (auto_row, auto_id) = switch_row(
        "Next client id when taken",
        "On error 326, try the next free client id",
        profile.auto_client_id,
    );
    if existing.is_some() {
        name.set_editable(false);
    }
    for row in [&name, &host, &port, &client, &account] {
        group.add(row);
    }
    group.add(&read_only_row);
    group.add(&remote_row);
    group.add(&auto_row);

    let buttons = gtk::Box::new(gtk::Orientation::Horizontal, 6);
    if let Some(existing) = existing {
        let delete = gtk::Button::builder()
            .label("Delete")
            .valign(gtk::Align::Center)
            .build();
        delete.add_css_class("destructive-action");
        let (commands, name) = (commands.clone(), existing.name.clone());
        let w = window.clone();
        delete.connect_clicked(move |_| {
            commands.send(SessionCommand::DeleteProfile(name.clone()));
            w.close();
        });
        buttons.append(&delete);
    }
    let save = gtk::Button::builder()
        .label(if existing.is_some() { "Save" } else { "Add" })
        .valign(gtk::Align::Center)
        .build();
    save.add_css_class("suggested-action");
    save.set_widget_name("profile-save");
    buttons.append(&save);
    group.set_header_suffix(Some(&buttons));

    let w = window.clone();
    save.connect_clicked(move |_| {
        let number = |row: &adw::EntryRow, what: &str| -> Result<i32, String> {
            row.text()
                .trim()
                .parse::<i32>()
                .map_err(|_| format!("{what} must be a whole number, not “{}”", row.text()))
        };
        let built = (|| -> Result<ConnectionProfile, String> {
            let account = account.text().trim().to_owned();
            let profile = ConnectionProfile {
                name: name.text().trim().to_owned(),
                host: host.text().trim().to_owned(),
                port: number(&port, "the port")?,
                client_id: number(&client, "the client id")?,
                account: (!account.is_empty()).then_some(account),
                read_only: read_only.is_active(),
                allow_remote: remote.is_active(),
                auto_client_id: auto_id.is_active(),
            };
            profile.validate().map_err(|e| e.to_string())?;
            Ok(profile)
        })();
        match built {
            Ok(profile) => {
                commands.send(SessionCommand::SaveProfile(profile));
                w.close();
            }
            Err(err) => w.add_toast(adw::Toast::new(&err)),
        }
    });
    group
}

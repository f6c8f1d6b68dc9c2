//! The header bar: sidebar toggle, profile switcher with the connection state, account
//! selector, the read-only / armed indicator with arm and disarm, the kill switch (always
//! visible) and the primary menu.

use adw::prelude::*;
use gtk::gio;
use tickwork_core::session::ConnectionState;
use tickwork_core::store::profiles::ConnectionProfile;

use crate::gui::a11y;
use crate::gui::boundary::TradingState;

pub struct Header {
    pub bar: adw::HeaderBar,
    pub title: adw::WindowTitle,
    pub sidebar_button: gtk::ToggleButton,
    pub profile_button: gtk::MenuButton,
    pub profile_menu: gio::Menu,
    pub accounts: gtk::DropDown,
    pub accounts_model: gtk::StringList,
    pub trading_label: gtk::Label,
    pub arm_button: gtk::Button,
    pub kill_button: gtk::Button,
    pub progress: gtk::Spinner,
}

impl Header {
    pub fn new() -> Self {
        let title = adw::WindowTitle::new("Tickwork", "Not connected");
        let bar = adw::HeaderBar::builder().title_widget(&title).build();

        let sidebar_button = gtk::ToggleButton::builder()
            .icon_name("sidebar-show-symbolic")
            .tooltip_text("Show panels (F9)")
            .active(true)
            .build();
        sidebar_button.set_widget_name("sidebar-toggle");
        a11y::name_from_tooltip(&sidebar_button);

        let profile_menu = gio::Menu::new();
        let profile_button = gtk::MenuButton::builder()
            .label("Connect")
            .tooltip_text("Connection profiles: connect to TWS or IB Gateway")
            .menu_model(&profile_menu)
            .build();
        profile_button.set_widget_name("profile-switcher");
        a11y::set_label(&profile_button, "Connection profile");

        let accounts_model = gtk::StringList::new(&[]);
        let accounts = gtk::DropDown::builder()
            .model(&accounts_model)
            .tooltip_text("Account shown and traded")
            .sensitive(false)
            .build();
        accounts.set_widget_name("account-selector");
        a11y::set_label(&accounts, "Account");
        a11y::name_inner_button(&accounts, "Choose the account");

        let trading_label = gtk::Label::new(Some("Read-only"));
        trading_label.add_css_class("heading");
        trading_label.set_tooltip_text(Some("Whether orders can be sent to TWS"));
        trading_label.set_widget_name("trading-state");
        let arm_button = gtk::Button::builder()
            .label("Arm…")
            .tooltip_text("Allow trading on the selected account (asks first)")
            .sensitive(false)
            .build();
        arm_button.set_widget_name("arm");
        let kill_button = gtk::Button::builder()
            .label("Kill Switch")
            .tooltip_text("Disarm every account and cancel every working order (Ctrl+Shift+K)")
            .sensitive(false)
            .build();
        kill_button.add_css_class("destructive-action");
        kill_button.set_widget_name("kill-switch");

        let menu = gio::Menu::new();
        let section = gio::Menu::new();
        section.append(Some("_Preferences"), Some("app.preferences"));
        section.append(Some("Connection _Profiles"), Some("app.profiles"));
        section.append(Some("_Keyboard Shortcuts"), Some("win.show-help-overlay"));
        section.append(Some("_About Tickwork"), Some("app.about"));
        menu.append_section(None, &section);
        let menu_button = gtk::MenuButton::builder()
            .icon_name("open-menu-symbolic")
            .tooltip_text("Main menu (F10)")
            .menu_model(&menu)
            .primary(true)
            .build();
        a11y::set_label(&menu_button, "Main menu");

        let progress = gtk::Spinner::new();
        progress.set_tooltip_text(Some("Working…"));
        a11y::set_label(&progress, "Work in progress");

        bar.pack_start(&sidebar_button);
        bar.pack_start(&profile_button);
        bar.pack_start(&progress);
        bar.pack_end(&menu_button);
        bar.pack_end(&kill_button);
        bar.pack_end(&arm_button);
        bar.pack_end(&trading_label);
        bar.pack_end(&accounts);
        Self {
            bar,
            title,
            sidebar_button,
            profile_button,
            profile_menu,
            accounts,
            accounts_model,
            trading_label,
            arm_button,
            kill_button,
            progress,
        }
    }

    /// The profile menu: connect to each stored profile (and the demo), disconnect, manage.
    pub fn set_profiles(&self, profiles: &[ConnectionProfile], demo_available: bool) {
        self.profile_menu.remove_all();
        let connect = gio::Menu::new();
        for profile in profiles {
            let item = gio::MenuItem::new(
                Some(&format!(
                    "{} ({}:{}{})",
                    profile.name,
                    profile.host,
                    profile.port,
                    if profile.read_only { ", read-only" } else { "" }
                )),
                None,
            );
            item.set_action_and_target_value(Some("app.connect"), Some(&profile.name.to_variant()));
            connect.append_item(&item);
        }
        if demo_available {
            let item = gio::MenuItem::new(Some("Demo (built-in simulator)"), None);
            item.set_action_and_target_value(Some("app.connect"), Some(&"demo".to_variant()));
            connect.append_item(&item);
        }
        self.profile_menu.append_section(Some("Connect"), &connect);
        let manage = gio::Menu::new();
        manage.append(Some("_Disconnect"), Some("app.disconnect"));
        manage.append(Some("_Edit Profiles…"), Some("app.profiles"));
        self.profile_menu.append_section(None, &manage);
    }

    pub fn set_connection(
        &self,
        profile: Option<&ConnectionProfile>,
        demo: bool,
        state: &ConnectionState,
    ) {
        let name = match (profile, demo) {
            (_, true) => "Demo".to_owned(),
            (Some(p), false) => p.name.clone(),
            (None, false) => "Connect".to_owned(),
        };
        self.profile_button.set_label(&name);
        let subtitle = match profile {
            Some(_) if demo => format!("{} · built-in simulator, no broker account", state.label()),
            Some(p) => format!("{} · {}:{}", state.label(), p.host, p.port),
            None => "Not connected: choose a profile".to_owned(),
        };
        self.title.set_subtitle(&subtitle);
    }

    /// Replaces the account list, keeping the selection when the account is still there.
    pub fn set_accounts(&self, accounts: &[String], selected: Option<&str>) {
        let current: Vec<String> = (0..self.accounts_model.n_items())
            .filter_map(|i| self.accounts_model.string(i).map(|s| s.to_string()))
            .collect();
        if current != accounts {
            let strs: Vec<&str> = accounts.iter().map(String::as_str).collect();
            self.accounts_model
                .splice(0, self.accounts_model.n_items(), &strs);
        }
        if let Some(position) = selected.and_then(|s| accounts.iter().position(|a| a == s)) {
            self.accounts.set_selected(position as u32);
        }
        self.accounts.set_sensitive(accounts.len() > 1);
    }

    pub fn set_trading(&self, trading: &TradingState, account: Option<&str>) {
        let armed_here = account.is_some_and(|a| trading.armed.iter().any(|x| x == a));
        let text = match (trading.halted, trading.read_only, trading.armed.as_slice()) {
            (true, _, _) => "Kill switch engaged".to_owned(),
            (false, true, _) => "Read-only profile".to_owned(),
            (false, false, []) => "Read-only".to_owned(),
            (false, false, accounts) => format!("Armed: {}", accounts.join(", ")),
        };
        self.trading_label.set_label(&text);
        if trading.armed.is_empty() {
            self.trading_label.remove_css_class("error");
        } else {
            self.trading_label.add_css_class("error");
        }
        self.arm_button
            .set_label(if armed_here { "Disarm" } else { "Arm…" });
        self.arm_button.set_tooltip_text(Some(if trading.read_only {
            "This profile is read-only: edit the profile to allow trading"
        } else if armed_here {
            "Stop trading on the selected account"
        } else {
            "Allow trading on the selected account (asks first)"
        }));
        self.arm_button
            .set_sensitive(account.is_some() && !trading.halted);
        self.kill_button.set_sensitive(!trading.accounts.is_empty());
    }
}

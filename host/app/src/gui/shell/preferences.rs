//! The preferences window: appearance and each account's risk limits (which include how old a
//! quote may be before price checks refuse it). Limits are stored, audited and applied to the
//! gate at once.

use adw::prelude::*;
use tickwork_core::risk::RiskLimits;

use tickwork_core::domain::{OrderType, TimeInForce};

use crate::gui::boundary::{Commands, SessionCommand, TicketDefaults};

/// What each limit means, shown under its name.
fn describe(key: &str) -> &'static str {
    match key {
        "max_quantity" => "Largest quantity of one order",
        "max_notional" => "Largest value of one order (quantity × price × multiplier)",
        "price_collar" => "How far a limit or stop may be from the last quote (0.05 = 5 %)",
        "max_position" => "Largest position in one instrument after a fill",
        "max_orders_per_minute" => "Most orders accepted in any minute",
        "max_daily_loss" => "After this loss today, only orders that reduce a position pass",
        "max_quote_age_ms" => "Quotes older than this (milliseconds) are stale for price checks",
        "allow_delayed_quotes" => "Whether delayed market data may stand in for live quotes",
        _ => "",
    }
}

pub fn show(
    parent: &adw::ApplicationWindow,
    limits: &[(String, RiskLimits)],
    ticket: &TicketDefaults,
    commands: Commands,
) {
    let window = adw::PreferencesWindow::builder()
        .transient_for(parent)
        .modal(true)
        .title("Preferences")
        .search_enabled(false)
        .build();
    let general = appearance_page();
    general.add(&ticket_group(&window, ticket, commands.clone()));
    window.add(&general);
    window.add(&limits_page(&window, limits, commands));
    window.present();
}

fn appearance_page() -> adw::PreferencesPage {
    let page = adw::PreferencesPage::builder()
        .title("General")
        .icon_name("preferences-system-symbolic")
        .build();
    let group = adw::PreferencesGroup::builder().title("Appearance").build();
    let styles = gtk::StringList::new(&["Follow the system", "Light", "Dark"]);
    let row = adw::ComboRow::builder()
        .title("Style")
        .model(&styles)
        .build();
    let manager = adw::StyleManager::default();
    row.set_selected(match manager.color_scheme() {
        adw::ColorScheme::ForceLight => 1,
        adw::ColorScheme::ForceDark => 2,
        _ => 0,
    });
    row.connect_selected_notify(|row| {
        adw::StyleManager::default().set_color_scheme(match row.selected() {
            1 => adw::ColorScheme::ForceLight,
            2 => adw::ColorScheme::ForceDark,
            _ => adw::ColorScheme::Default,
        });
    });
    group.add(&row);
    page.add(&group);
    page
}

fn limits_page(
    window: &adw::PreferencesWindow,
    limits: &[(String, RiskLimits)],
    commands: Commands,
) -> adw::PreferencesPage {
    let page = adw::PreferencesPage::builder()
        .title("Risk Limits")
        .icon_name("security-high-symbolic")
        .build();
    if limits.is_empty() {
        let group = adw::PreferencesGroup::builder()
            .title("No accounts yet")
            .description("Connect to TWS: each account it manages gets its limits here.")
            .build();
        page.add(&group);
        return page;
    }
    for (account, current) in limits {
        let group = adw::PreferencesGroup::builder()
            .title(account)
            .description(
                "Applied to the risk gate as soon as they are saved; every change is audited.",
            )
            .build();
        let mut entries = Vec::new();
        for (key, value) in current.entries() {
            let row = adw::EntryRow::builder()
                .title(describe(key))
                .text(&value)
                .build();
            row.set_tooltip_text(Some(key));
            row.set_widget_name(&format!("limit-{account}-{key}"));
            group.add(&row);
            entries.push((key, row));
        }
        let save = gtk::Button::builder()
            .label("Save Limits")
            .valign(gtk::Align::Center)
            .build();
        save.add_css_class("suggested-action");
        save.set_widget_name(&format!("save-limits-{account}"));
        group.set_header_suffix(Some(&save));
        let (account, base) = (account.clone(), current.clone());
        let commands = commands.clone();
        let window = window.clone();
        save.connect_clicked(move |_| {
            let mut limits = base.clone();
            for (key, row) in &entries {
                if let Err(err) = limits.apply(key, &row.text()) {
                    row.add_css_class("error");
                    window.add_toast(adw::Toast::new(&format!("{account}: {err}")));
                    return;
                }
                row.remove_css_class("error");
            }
            commands.send(SessionCommand::SaveLimits {
                account: account.clone(),
                limits,
            });
            window.add_toast(adw::Toast::new(&format!("Limits of {account} saved")));
        });
        page.add(&group);
    }
    page
}

const ORDER_TYPES: [(OrderType, &str); 4] = [
    (OrderType::Market, "Market"),
    (OrderType::Limit, "Limit"),
    (OrderType::Stop, "Stop"),
    (OrderType::StopLimit, "Stop limit"),
];
const TIMES_IN_FORCE: [(TimeInForce, &str); 3] = [
    (TimeInForce::Day, "Day"),
    (TimeInForce::Gtc, "Good till cancelled"),
    (TimeInForce::Ioc, "Immediate or cancel"),
];

/// What a new order ticket starts with.
fn ticket_group(
    window: &adw::PreferencesWindow,
    current: &TicketDefaults,
    commands: Commands,
) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::builder()
        .title("Order Ticket")
        .description("What a new ticket starts with; every order is still confirmed.")
        .build();
    let quantity = adw::EntryRow::builder()
        .title("Default quantity (empty: none)")
        .text(
            current
                .quantity
                .map(|q| q.normalize().to_string())
                .unwrap_or_default(),
        )
        .build();
    quantity.set_widget_name("pref-ticket-quantity");
    let types = gtk::StringList::new(&ORDER_TYPES.map(|(_, l)| l));
    let order_type = adw::ComboRow::builder()
        .title("Default order type")
        .model(&types)
        .build();
    order_type.set_widget_name("pref-ticket-type");
    order_type.set_selected(
        ORDER_TYPES
            .iter()
            .position(|(t, _)| *t == current.order_type)
            .unwrap_or(1) as u32,
    );
    let tifs = gtk::StringList::new(&TIMES_IN_FORCE.map(|(_, l)| l));
    let tif = adw::ComboRow::builder()
        .title("Default time in force")
        .model(&tifs)
        .build();
    tif.set_selected(
        TIMES_IN_FORCE
            .iter()
            .position(|(t, _)| *t == current.time_in_force)
            .unwrap_or(0) as u32,
    );
    group.add(&quantity);
    group.add(&order_type);
    group.add(&tif);
    let save = gtk::Button::builder()
        .label("Save Defaults")
        .valign(gtk::Align::Center)
        .build();
    save.add_css_class("suggested-action");
    save.set_widget_name("pref-ticket-save");
    group.set_header_suffix(Some(&save));
    let window = window.clone();
    save.connect_clicked(move |_| {
        let text = quantity.text().trim().to_owned();
        let parsed = if text.is_empty() {
            Ok(None)
        } else {
            text.parse::<rust_decimal::Decimal>()
                .map(Some)
                .map_err(|_| format!("default quantity “{text}”: not a number"))
        };
        let defaults = parsed.and_then(|quantity| {
            let defaults = TicketDefaults {
                quantity,
                order_type: ORDER_TYPES
                    .get(order_type.selected() as usize)
                    .map_or(OrderType::Limit, |(t, _)| *t),
                time_in_force: TIMES_IN_FORCE
                    .get(tif.selected() as usize)
                    .map_or(TimeInForce::Day, |(t, _)| *t),
            };
            defaults.validate().map(|()| defaults)
        });
        match defaults {
            Ok(defaults) => {
                quantity.remove_css_class("error");
                commands.send(SessionCommand::SaveTicketDefaults(defaults));
                window.add_toast(adw::Toast::new("Ticket defaults saved"));
            }
            Err(err) => {
                quantity.add_css_class("error");
                window.add_toast(adw::Toast::new(&err));
            }
        }
    });
    group
}

//! The watchlist: one row per instrument with bid × ask and last, updated from coalesced quotes.

use std::collections::BTreeMap;

use adw::prelude::*;
use rust_decimal::Decimal;
use tickwork_core::domain::Quote;

pub struct Watchlist {
    pub group: adw::PreferencesGroup,
    rows: BTreeMap<String, (gtk::Label, gtk::Label)>,
}

fn price(value: Option<Decimal>) -> String {
    value.map_or_else(|| "—".to_owned(), |p| format!("{:.2}", p))
}

impl Watchlist {
    pub fn new(symbols: &[&str]) -> Self {
        let group = adw::PreferencesGroup::builder().title("Watchlist").build();
        let mut rows = BTreeMap::new();
        for symbol in symbols {
            let row = adw::ActionRow::builder().title(*symbol).build();
            let quote = gtk::Label::new(Some("— × —"));
            quote.add_css_class("numeric");
            quote.add_css_class("dim-label");
            let last = gtk::Label::new(Some("—"));
            last.add_css_class("numeric");
            last.add_css_class("heading");
            last.set_width_chars(9);
            last.set_xalign(1.0);
            row.add_suffix(&quote);
            row.add_suffix(&last);
            group.add(&row);
            rows.insert((*symbol).to_owned(), (quote, last));
        }
        Self { group, rows }
    }

    pub fn update(&self, symbol: &str, quote: &Quote) {
        if let Some((bid_ask, last)) = self.rows.get(symbol) {
            bid_ask.set_text(&format!("{} × {}", price(quote.bid), price(quote.ask)));
            last.set_text(&price(quote.last.or_else(|| quote.reference_price())));
        }
    }
}

//! The ticket's widgets: built once, named for tests, laid out to fit a narrow tab.

use adw::prelude::*;

use super::form::{ORDER_TYPES, TIMES_IN_FORCE, order_type_label, tif_label};
use super::preview::Row;

/// One figure of the margin grid: ours and TWS's label.
pub struct Figure {
    pub ours: gtk::Label,
    pub tws: gtk::Label,
}

pub struct Widgets {
    pub root: gtk::Stack,
    pub account: gtk::Label,
    pub account_error: gtk::Label,
    pub symbol: gtk::Entry,
    pub instrument: gtk::Label,
    pub buy: gtk::ToggleButton,
    pub sell: gtk::ToggleButton,
    pub quantity: gtk::Entry,
    pub quantity_error: gtk::Label,
    pub order_type: gtk::DropDown,
    pub limit_label: gtk::Label,
    pub limit: gtk::Entry,
    pub limit_error: gtk::Label,
    pub stop_label: gtk::Label,
    pub stop: gtk::Entry,
    pub stop_error: gtk::Label,
    pub tif: gtk::DropDown,
    pub bid: gtk::Label,
    pub ask: gtk::Label,
    pub last: gtk::Label,
    pub quote_note: gtk::Label,
    pub refusal: gtk::Label,
    pub figures: Vec<Figure>,
    pub ours_note: gtk::Label,
    pub tws_note: gtk::Label,
    pub explanation: gtk::Label,
    pub explanation_expander: gtk::Expander,
    pub place: gtk::Button,
}

fn caption(text: &str) -> gtk::Label {
    let label = gtk::Label::builder()
        .label(text)
        .xalign(0.0)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .max_width_chars(NARROW)
        .build();
    label.add_css_class("caption");
    label
}

/// Wrapped text asks for no more than this many characters of width, so a long reason never
/// widens the ticket's tab at the expense of its neighbours; it wraps instead.
const NARROW: i32 = 24;

/// A label shown under a field when what was typed is not valid.
fn field_error() -> gtk::Label {
    let label = caption("");
    label.add_css_class("error");
    label.set_visible(false);
    label
}

fn field_label(mnemonic: &str, widget: &impl IsA<gtk::Widget>) -> gtk::Label {
    let label = gtk::Label::with_mnemonic(mnemonic);
    label.set_xalign(0.0);
    label.set_mnemonic_widget(Some(widget));
    label
}

fn number() -> gtk::Label {
    let label = gtk::Label::builder().label("—").xalign(1.0).build();
    label.add_css_class("numeric");
    label
}

fn entry(name: &str, placeholder: &str) -> gtk::Entry {
    let entry = gtk::Entry::builder()
        .placeholder_text(placeholder)
        .hexpand(true)
        .width_chars(8)
        .build();
    entry.set_widget_name(name);
    entry
}

impl Widgets {
    pub fn build(rows: &[Row]) -> Self {
        let grid = gtk::Grid::builder()
            .row_spacing(6)
            .column_spacing(12)
            .build();
        let mut row = 0;
        let mut attach = |label: Option<&gtk::Label>, widget: &gtk::Widget| {
            match label {
                Some(label) => {
                    grid.attach(label, 0, row, 1, 1);
                    grid.attach(widget, 1, row, 1, 1);
                }
                None => grid.attach(widget, 0, row, 2, 1),
            }
            row += 1;
        };

        let account = gtk::Label::builder().xalign(0.0).selectable(true).build();
        account.set_widget_name("ticket-account");
        let account_title = gtk::Label::new(Some("Account"));
        account_title.set_xalign(0.0);
        attach(Some(&account_title), account.upcast_ref());
        let account_note = caption("Chosen in the header");
        account_note.add_css_class("dim-label");
        attach(None, account_note.upcast_ref());
        let account_error = field_error();
        attach(None, account_error.upcast_ref());

        let symbol = entry("ticket-symbol", "e.g. AAPL");
        symbol.set_input_hints(gtk::InputHints::UPPERCASE_CHARS | gtk::InputHints::NO_SPELLCHECK);
        symbol.set_tooltip_text(Some(
            "Type a stock symbol and press Enter, or pick an instrument in another panel",
        ));
        attach(Some(&field_label("S_ymbol", &symbol)), symbol.upcast_ref());
        let instrument = caption("");
        instrument.add_css_class("dim-label");
        attach(None, instrument.upcast_ref());

        let buy = gtk::ToggleButton::with_mnemonic("_Buy");
        buy.set_widget_name("ticket-side-buy");
        buy.set_active(true);
        buy.set_hexpand(true);
        let sell = gtk::ToggleButton::with_mnemonic("S_ell");
        sell.set_widget_name("ticket-side-sell");
        sell.set_group(Some(&buy));
        sell.set_hexpand(true);
        let sides = gtk::Box::new(gtk::Orientation::Horizontal, 0);
        sides.add_css_class("linked");
        sides.append(&buy);
        sides.append(&sell);
        let side_title = gtk::Label::new(Some("Side"));
        side_title.set_xalign(0.0);
        attach(Some(&side_title), sides.upcast_ref());

        let quantity = entry("ticket-quantity", "Shares");
        quantity.set_input_purpose(gtk::InputPurpose::Number);
        attach(
            Some(&field_label("_Quantity", &quantity)),
            quantity.upcast_ref(),
        );
        let quantity_error = field_error();
        attach(None, quantity_error.upcast_ref());

        let types: Vec<&str> = ORDER_TYPES.iter().map(|t| order_type_label(*t)).collect();
        let order_type = gtk::DropDown::from_strings(&types);
        order_type.set_widget_name("ticket-type");
        order_type.set_selected(1);
        attach(
            Some(&field_label("_Type", &order_type)),
            order_type.upcast_ref(),
        );

        let limit = entry("ticket-limit", "Limit price");
        limit.set_input_purpose(gtk::InputPurpose::Number);
        let limit_label = field_label("_Limit", &limit);
        attach(Some(&limit_label), limit.upcast_ref());
        let limit_error = field_error();
        attach(None, limit_error.upcast_ref());

        let stop = entry("ticket-stop", "Stop price");
        stop.set_input_purpose(gtk::InputPurpose::Number);
        let stop_label = field_label("St_op", &stop);
        attach(Some(&stop_label), stop.upcast_ref());
        let stop_error = field_error();
        attach(None, stop_error.upcast_ref());

        let tifs: Vec<&str> = TIMES_IN_FORCE.iter().map(|t| tif_label(*t)).collect();
        let tif = gtk::DropDown::from_strings(&tifs);
        tif.set_widget_name("ticket-tif");
        attach(Some(&field_label("Time in _force", &tif)), tif.upcast_ref());

        // The live quote of the instrument.
        let quotes = gtk::Grid::builder()
            .column_spacing(12)
            .column_homogeneous(true)
            .build();
        let (bid, ask, last) = (number(), number(), number());
        for (column, (title, value)) in [("Bid", &bid), ("Ask", &ask), ("Last", &last)]
            .into_iter()
            .enumerate()
        {
            let title = caption(title);
            title.add_css_class("dim-label");
            title.set_xalign(1.0);
            quotes.attach(&title, column as i32, 0, 1, 1);
            quotes.attach(value, column as i32, 1, 1, 1);
        }
        bid.set_widget_name("ticket-bid");
        ask.set_widget_name("ticket-ask");
        last.set_widget_name("ticket-last");
        let quote_note = caption("");
        quote_note.add_css_class("dim-label");
        quote_note.set_visible(false);

        // The gate's verdict, before anything is sent.
        let refusal = gtk::Label::builder()
            .xalign(0.0)
            .wrap(true)
            .wrap_mode(gtk::pango::WrapMode::WordChar)
            .selectable(true)
            .max_width_chars(NARROW)
            .visible(false)
            .build();
        refusal.set_widget_name("ticket-refusal");
        refusal.add_css_class("error");

        // Our margin and TWS's what-if side by side.
        let margin = gtk::Grid::builder()
            .row_spacing(2)
            .column_spacing(12)
            .build();
        let heading = gtk::Label::new(Some("Margin"));
        heading.add_css_class("heading");
        heading.set_xalign(0.0);
        margin.attach(&heading, 0, 0, 1, 1);
        for (column, title) in [(1, "Ours"), (2, "TWS")] {
            let title = gtk::Label::new(Some(title));
            title.add_css_class("heading");
            title.set_xalign(1.0);
            title.set_hexpand(true);
            margin.attach(&title, column, 0, 1, 1);
        }
        let mut figures = Vec::new();
        for (index, shown) in rows.iter().enumerate() {
            let title = caption(shown.label);
            title.set_wrap(false);
            title.add_css_class("dim-label");
            if shown.label == "Equity w/ loan" {
                title.set_tooltip_text(Some(
                    "Ours: the account's equity with loan value now, as TWS last reported it. \
                     TWS: after the order.",
                ));
            }
            let (ours, tws) = (number(), number());
            let at = index as i32 + 1;
            margin.attach(&title, 0, at, 1, 1);
            margin.attach(&ours, 1, at, 1, 1);
            margin.attach(&tws, 2, at, 1, 1);
            figures.push(Figure { ours, tws });
        }
        if let Some(after) = rows.iter().position(|r| r.label == "Initial after") {
            figures[after].ours.set_widget_name("ticket-ours");
            figures[after].tws.set_widget_name("ticket-tws");
        }
        let ours_note = caption("");
        ours_note.add_css_class("dim-label");
        let tws_note = caption("");
        tws_note.add_css_class("dim-label");
        let explanation = gtk::Label::builder()
            .xalign(0.0)
            .wrap(true)
            .wrap_mode(gtk::pango::WrapMode::WordChar)
            .selectable(true)
            .max_width_chars(NARROW)
            .build();
        explanation.add_css_class("monospace");
        explanation.add_css_class("caption");
        let explanation_expander = gtk::Expander::builder()
            .label("How our margin was computed")
            .child(&explanation)
            .visible(false)
            .build();

        let place = gtk::Button::with_mnemonic("_Place order…");
        place.set_widget_name("ticket-place");
        place.add_css_class("suggested-action");
        place.add_css_class("pill");
        place.set_sensitive(false);

        let form = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .spacing(12)
            .margin_top(12)
            .margin_bottom(12)
            .margin_start(12)
            .margin_end(12)
            .build();
        form.append(&grid);
        form.append(&quotes);
        form.append(&quote_note);
        form.append(&margin);
        form.append(&ours_note);
        form.append(&tws_note);
        form.append(&explanation_expander);
        let clamp = adw::Clamp::builder().maximum_size(520).child(&form).build();
        let scrolled = gtk::ScrolledWindow::builder()
            .hscrollbar_policy(gtk::PolicyType::Never)
            .vexpand(true)
            .child(&clamp)
            .build();
        // The gate's verdict and the Place button stay in sight below the scrolled form.
        let bottom = gtk::Box::builder()
            .orientation(gtk::Orientation::Vertical)
            .spacing(6)
            .margin_top(6)
            .margin_bottom(12)
            .margin_start(12)
            .margin_end(12)
            .build();
        bottom.append(&refusal);
        bottom.append(&place);
        let content = gtk::Box::new(gtk::Orientation::Vertical, 0);
        content.append(&scrolled);
        content.append(&gtk::Separator::new(gtk::Orientation::Horizontal));
        content.append(&bottom);

        let empty = adw::StatusPage::builder()
            .icon_name("mail-send-symbolic")
            .title("Not connected")
            .description("Connect to TWS or open the demo to place orders.")
            .build();
        empty.add_css_class("compact");
        let root = gtk::Stack::new();
        root.add_named(&empty, Some("empty"));
        root.add_named(&content, Some("form"));
        root.set_visible_child_name("empty");

        Self {
            root,
            account,
            account_error,
            symbol,
            instrument,
            buy,
            sell,
            quantity,
            quantity_error,
            order_type,
            limit_label,
            limit,
            limit_error,
            stop_label,
            stop,
            stop_error,
            tif,
            bid,
            ask,
            last,
            quote_note,
            refusal,
            figures,
            ours_note,
            tws_note,
            explanation,
            explanation_expander,
            place,
        }
    }
}

//! The margin calculator: the live portfolio of the selected account, or a hypothetical one the
//! trader edits (legs, leg prices, underlying prices), margined by the `tickwork-margin` engine
//! by the chosen method, with the result's explanation as a tree. Portfolio files are the ones
//! `tickwork margin` reads; reading, writing and computing happen in the backend.

mod form;
mod model;
mod tables;

use std::cell::{Cell, Ref, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::str::FromStr;
use std::time::{Duration, Instant};

use adw::prelude::*;
use gtk::{gio, glib};
use rust_decimal::Decimal;
use tickwork_core::domain::Quote;
use tickwork_margin::{MarginResult, Method, Portfolio, parse_portfolio, write_portfolio};

use super::columns::{self, labelled};
use super::{Panel, PanelContext, PanelEvent, PanelProvider, WindowRequest};
use crate::gui::boundary::{MarginCommand, MarginEvent, Notification, SessionEvent};
use tables::{Item, Source};

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "margin".into(),
        title: "Margin".into(),
        icon: "accessories-calculator-symbolic".into(),
        description: "Margin of the live or a hypothetical portfolio, with the rules applied"
            .into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(MarginPanel::new(ctx))),
    }
}

/// The live portfolio is read again at most this often while quotes move.
const LIVE_REFRESH: Duration = Duration::from_secs(3);

pub struct MarginPanel {
    inner: Rc<Inner>,
}

#[derive(Default)]
struct State {
    hypothetical: bool,
    live: Portfolio,
    live_account: Option<String>,
    equity: Option<Decimal>,
    left_out: Vec<String>,
    hypo: Portfolio,
    method: Option<Method>,
    request: u64,
    live_asked: Option<Instant>,
}

struct Inner {
    ctx: PanelContext,
    root: gtk::Box,
    source: gtk::DropDown,
    method: gtk::DropDown,
    add_leg: gtk::MenuButton,
    clear: gtk::Button,
    import: gtk::Button,
    export: gtk::Button,
    initial: gtk::Label,
    maintenance: gtk::Label,
    end_of_day: gtk::Label,
    excess: gtk::Label,
    note: gtk::Label,
    legs: gio::ListStore,
    underlyings: gio::ListStore,
    tree: gio::ListStore,
    state: RefCell<State>,
    /// Shown portfolio for the tables (a copy of the live or hypothetical one).
    shown: RefCell<Portfolio>,
    chooser: RefCell<Option<gtk::FileChooserNative>>,
    tree_model: RefCell<Option<gtk::TreeListModel>>,
    /// A dropdown is set by the panel itself: not the trader's choice.
    setting: Cell<bool>,
}

fn value_label(name: &str) -> gtk::Label {
    let l = gtk::Label::new(Some("—"));
    l.set_widget_name(name);
    l.set_xalign(1.0);
    l.add_css_class("numeric");
    l.add_css_class("title-3");
    l.set_selectable(true);
    l
}

impl MarginPanel {
    pub fn new(ctx: PanelContext) -> Self {
        let source = gtk::DropDown::from_strings(&["Live portfolio", "Hypothetical"]);
        source.set_widget_name("margin-source");
        source.set_tooltip_text(Some("The account's positions, or a portfolio you edit"));
        let names: Vec<&str> = model::METHODS.iter().map(|(_, n)| *n).collect();
        let method = gtk::DropDown::from_strings(&names);
        method.set_widget_name("margin-method");
        method.set_tooltip_text(Some(
            "Reg T: strategy-based with optimal grouping; Portfolio: risk-based scenarios; \
             Futures: exchange rates or SPAN arrays",
        ));
        let import = gtk::Button::from_icon_name("document-open-symbolic");
        import.set_widget_name("margin-import");
        import.set_tooltip_text(Some(
            "Read a portfolio file (the format of tickwork margin)",
        ));
        let export = gtk::Button::from_icon_name("document-save-as-symbolic");
        export.set_widget_name("margin-export");
        export.set_tooltip_text(Some("Export the portfolio shown as a portfolio file"));
        let add_leg = gtk::MenuButton::builder()
            .label("_Add leg")
            .use_underline(true)
            .tooltip_text("Add a stock, option or future to the hypothetical portfolio")
            .build();
        add_leg.set_widget_name("margin-add-leg");
        let clear = gtk::Button::with_mnemonic("C_lear");
        clear.set_widget_name("margin-clear");
        clear.set_tooltip_text(Some("Start an empty hypothetical portfolio"));
        let choose = gtk::Box::new(gtk::Orientation::Horizontal, 12);
        choose.append(&labelled("_Source", &source));
        choose.append(&labelled("_Method", &method));
        let actions = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        for button in [
            add_leg.upcast_ref::<gtk::Widget>(),
            clear.upcast_ref(),
            import.upcast_ref(),
            export.upcast_ref(),
        ] {
            actions.append(button);
        }
        let bar = columns::toolbar(&[choose.upcast(), actions.upcast()]);

        let initial = value_label("margin-initial");
        let maintenance = value_label("margin-maintenance");
        let end_of_day = value_label("margin-end-of-day");
        let excess = value_label("margin-excess");
        let mut cells: Vec<gtk::Widget> = Vec::new();
        for (title, value) in [
            ("Initial", &initial),
            ("Maintenance", &maintenance),
            ("Reg T end of day", &end_of_day),
            ("Equity − initial", &excess),
        ] {
            let caption = gtk::Label::new(Some(title));
            caption.add_css_class("caption");
            caption.add_css_class("dim-label");
            caption.set_xalign(1.0);
            let cell = gtk::Box::new(gtk::Orientation::Vertical, 2);
            cell.set_size_request(120, -1);
            cell.append(&caption);
            cell.append(value);
            cells.push(cell.upcast());
        }
        let figures = columns::toolbar(&cells);
        let note = gtk::Label::new(None);
        note.set_wrap(true);
        note.set_xalign(0.0);
        note.set_selectable(true);
        note.add_css_class("caption");
        note.set_margin_start(12);
        note.set_margin_end(12);

        let legs = gio::ListStore::new::<glib::BoxedAnyObject>();
        let underlyings = gio::ListStore::new::<glib::BoxedAnyObject>();
        let tree = gio::ListStore::new::<glib::BoxedAnyObject>();

        let root = gtk::Box::new(gtk::Orientation::Vertical, 6);
        let inner = Rc::new(Inner {
            ctx,
            root: root.clone(),
            source,
            method,
            add_leg,
            clear,
            import,
            export,
            initial,
            maintenance,
            end_of_day,
            excess,
            note,
            legs,
            underlyings,
            tree,
            state: RefCell::new(State::default()),
            shown: RefCell::new(Portfolio::default()),
            chooser: RefCell::new(None),
            tree_model: RefCell::new(None),
            setting: Cell::new(false),
        });
        let scrolled = |child: &gtk::Widget| {
            gtk::ScrolledWindow::builder()
                .child(child)
                .vexpand(true)
                .hexpand(true)
                .build()
        };
        let legs_view = tables::legs(&inner, &inner.legs);
        let unds_view = tables::underlyings(&inner, &inner.underlyings);
        let (tree_view, tree_model) = tables::tree(&inner.tree);
        inner.tree_model.replace(Some(tree_model));
        let books = gtk::Box::new(gtk::Orientation::Horizontal, 0);
        books.append(&scrolled(legs_view.upcast_ref()));
        books.append(&gtk::Separator::new(gtk::Orientation::Vertical));
        let unds = scrolled(unds_view.upcast_ref());
        unds.set_hexpand(false);
        unds.set_propagate_natural_width(true);
        books.append(&unds);
        let split = gtk::Paned::new(gtk::Orientation::Vertical);
        split.set_start_child(Some(&books));
        split.set_end_child(Some(&scrolled(tree_view.upcast_ref())));
        split.set_vexpand(true);
        root.append(&bar);
        root.append(&figures);
        root.append(&inner.note);
        root.append(&split);

        inner.add_leg.set_popover(Some(&form::popover(&inner)));
        inner.restore();
        inner.connect();
        inner.switch_source();
        Self { inner }
    }
}

impl Source for Inner {
    fn portfolio(&self) -> Ref<'_, Portfolio> {
        self.shown.borrow()
    }

    fn editable(&self) -> bool {
        self.state.borrow().hypothetical
    }

    fn set_price(&self, item: &Item, text: &str) {
        if !self.editable() {
            return;
        }
        let Ok(price) = Decimal::from_str(text.trim()) else {
            return self.say(&format!("“{text}” is not a price"));
        };
        if price.is_sign_negative() {
            return self.say("A price must not be negative");
        }
        {
            let mut state = self.state.borrow_mut();
            match item {
                Item::Leg(i) => {
                    if let Some(leg) = state.hypo.positions.get_mut(*i) {
                        leg.price = price;
                    }
                }
                Item::Underlying(s) => {
                    if let Some(u) = state.hypo.underlyings.get_mut(s) {
                        u.price = price;
                    }
                }
            }
        }
        self.changed();
    }

    fn remove_leg(&self, index: usize) {
        model::remove_leg(&mut self.state.borrow_mut().hypo, index);
        self.changed();
    }
}

impl Inner {
    fn connect(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        self.source.connect_selected_notify(move |_| {
            if let Some(inner) = weak.upgrade()
                && !inner.setting.get()
            {
                inner.switch_source();
            }
        });
        let weak = Rc::downgrade(self);
        self.method.connect_selected_notify(move |d| {
            if let Some(inner) = weak.upgrade() {
                inner.state.borrow_mut().method =
                    model::METHODS.get(d.selected() as usize).map(|(m, _)| *m);
                inner.calculate();
                inner.ctx.request(WindowRequest::LayoutChanged);
            }
        });
        let weak = Rc::downgrade(self);
        self.clear.connect_clicked(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.state.borrow_mut().hypo = Portfolio {
                    as_of: today(),
                    ..Portfolio::default()
                };
                inner.changed();
            }
        });
        for (button, save) in [(&self.import, false), (&self.export, true)] {
            let weak = Rc::downgrade(self);
            button.connect_clicked(move |_| {
                if let Some(inner) = weak.upgrade() {
                    inner.choose(save);
                }
            });
        }
    }

    fn restore(&self) {
        let saved = self.ctx.saved.clone().unwrap_or_default();
        let mut state = self.state.borrow_mut();
        state.method = saved["method"].as_str().and_then(|m| m.parse().ok());
        state.hypothetical = saved["source"] == "hypothetical";
        state.hypo = saved["portfolio"]
            .as_str()
            .and_then(|text| parse_portfolio(text).ok())
            .unwrap_or_default();
        let method = state.method.unwrap_or(Method::RegT);
        let hypothetical = state.hypothetical;
        drop(state);
        self.setting.set(true);
        self.source.set_selected(u32::from(hypothetical));
        if let Some(i) = model::METHODS.iter().position(|(m, _)| *m == method) {
            self.method.set_selected(i as u32);
        }
        self.setting.set(false);
    }

    /// Live ↔ hypothetical; a new hypothetical portfolio starts as a copy of the live one.
    fn switch_source(&self) {
        let hypothetical = self.source.selected() == 1;
        {
            let mut state = self.state.borrow_mut();
            if hypothetical && !state.hypothetical && state.hypo.positions.is_empty() {
                state.hypo = state.live.clone();
            }
            state.hypothetical = hypothetical;
        }
        self.add_leg.set_sensitive(hypothetical);
        self.clear.set_sensitive(hypothetical);
        if !hypothetical {
            self.load_live(true);
        }
        self.changed();
    }

    fn account(&self) -> Option<String> {
        self.ctx.shared.borrow().account.clone()
    }

    /// Asks for the live portfolio (`force`, or when the last ask is old enough).
    fn load_live(&self, force: bool) {
        let Some(account) = self.account() else {
            return;
        };
        let mut state = self.state.borrow_mut();
        if !force && state.live_asked.is_some_and(|t| t.elapsed() < LIVE_REFRESH) {
            return;
        }
        state.live_asked = Some(Instant::now());
        drop(state);
        self.ctx.commands.send(MarginCommand::LoadLive { account });
    }

    /// The portfolio shown changed: tables, then a new calculation.
    fn changed(&self) {
        let state = self.state.borrow();
        let portfolio = if state.hypothetical {
            state.hypo.clone()
        } else {
            state.live.clone()
        };
        let note = if state.hypothetical {
            String::new()
        } else if self.account().is_none() {
            "No account: connect to TWS or open the demo, or choose Hypothetical and add legs."
                .to_owned()
        } else if !state.left_out.is_empty() {
            format!("Left out: {}", state.left_out.join("; "))
        } else {
            String::new()
        };
        drop(state);
        self.shown.replace(portfolio);
        tables::refill(&self.shown.borrow(), &self.legs, &self.underlyings);
        self.say(&note);
        self.calculate();
        if self.editable() {
            self.ctx.request(WindowRequest::LayoutChanged);
        }
    }

    fn say(&self, text: &str) {
        self.note.set_text(text);
        self.note.set_visible(!text.is_empty());
    }

    fn calculate(&self) {
        let mut state = self.state.borrow_mut();
        state.request += 1;
        let request = state.request;
        let method = state.method.unwrap_or(Method::RegT);
        drop(state);
        let portfolio = Box::new(self.shown.borrow().clone());
        if portfolio.positions.is_empty() {
            return self.draw(None);
        }
        self.ctx.commands.send(MarginCommand::Calculate {
            request,
            portfolio,
            method,
        });
    }

    fn draw(&self, result: Option<&MarginResult>) {
        let amount = |d: Decimal| model::amount(d);
        match result {
            Some(r) => {
                self.initial.set_text(&amount(r.initial));
                self.maintenance.set_text(&amount(r.maintenance));
                self.end_of_day
                    .set_text(&r.reg_t_end_of_day.map(amount).unwrap_or_else(|| "—".into()));
                let state = self.state.borrow();
                let excess = (!state.hypothetical)
                    .then_some(state.equity)
                    .flatten()
                    .map(|e| amount(e - r.initial));
                self.excess.set_text(excess.as_deref().unwrap_or("—"));
                tables::fill_tree(&self.tree, &r.groups);
                if let Some(model) = self.tree_model.borrow().as_ref() {
                    tables::expand_groups(model);
                }
            }
            None => {
                for l in [
                    &self.initial,
                    &self.maintenance,
                    &self.end_of_day,
                    &self.excess,
                ] {
                    l.set_text("—");
                }
                tables::fill_tree(&self.tree, &[]);
            }
        }
    }

    /// Import (open) or export (save) through the desktop's file chooser.
    fn choose(self: &Rc<Self>, save: bool) {
        let window = self.root.root().and_downcast::<gtk::Window>();
        let (title, accept, action) = if save {
            (
                "Export the portfolio",
                "_Export",
                gtk::FileChooserAction::Save,
            )
        } else {
            (
                "Import a portfolio file",
                "_Import",
                gtk::FileChooserAction::Open,
            )
        };
        let chooser = gtk::FileChooserNative::new(
            Some(title),
            window.as_ref(),
            action,
            Some(accept),
            Some("_Cancel"),
        );
        let filter = gtk::FileFilter::new();
        filter.set_name(Some("Portfolio files (JSON)"));
        filter.add_pattern("*.json");
        chooser.add_filter(&filter);
        if save {
            chooser.set_current_name("portfolio.json");
        }
        let weak = Rc::downgrade(self);
        chooser.connect_response(move |chooser, response| {
            let Some(inner) = weak.upgrade() else { return };
            let path: Option<PathBuf> = chooser.file().and_then(|f| f.path());
            if response == gtk::ResponseType::Accept
                && let Some(path) = path
            {
                if save {
                    let portfolio = Box::new(inner.shown.borrow().clone());
                    inner
                        .ctx
                        .commands
                        .send(MarginCommand::Export { path, portfolio });
                } else {
                    inner.ctx.commands.send(MarginCommand::Import { path });
                }
            }
            inner.chooser.replace(None);
        });
        chooser.show();
        self.chooser.replace(Some(chooser));
    }

    fn margin_event(&self, event: &MarginEvent) {
        match event {
            MarginEvent::LivePortfolio {
                account,
                portfolio,
                equity,
                left_out,
            } => {
                if Some(account) != self.account().as_ref() {
                    return;
                }
                let mut state = self.state.borrow_mut();
                state.live = (**portfolio).clone();
                state.live_account = Some(account.clone());
                state.equity = *equity;
                state.left_out = left_out.clone();
                let hypothetical = state.hypothetical;
                drop(state);
                if !hypothetical {
                    self.changed();
                }
            }
            MarginEvent::Calculated { request, result } => {
                if *request != self.state.borrow().request {
                    return;
                }
                match result {
                    Ok(r) => self.draw(Some(r)),
                    Err(err) => {
                        self.draw(None);
                        self.say(err);
                    }
                }
            }
            MarginEvent::Imported { path, portfolio } => match portfolio {
                Ok(p) => {
                    self.state.borrow_mut().hypo = (**p).clone();
                    self.state.borrow_mut().hypothetical = true;
                    self.setting.set(true);
                    self.source.set_selected(1);
                    self.setting.set(false);
                    self.add_leg.set_sensitive(true);
                    self.clear.set_sensitive(true);
                    self.changed();
                    self.ctx
                        .request(WindowRequest::Toast(format!("Imported {}", path.display())));
                }
                Err(err) => {
                    self.say(err);
                    self.ctx.request(WindowRequest::Toast(err.clone()));
                }
            },
            MarginEvent::Exported { path, outcome } => {
                self.ctx.request(WindowRequest::Toast(match outcome {
                    Ok(()) => format!("Exported to {}", path.display()),
                    Err(err) => err.clone(),
                }));
            }
            MarginEvent::LiveSummary { .. } => {}
        }
    }
}

fn today() -> Option<tickwork_margin::Date> {
    chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
        .parse()
        .ok()
}

impl Panel for MarginPanel {
    fn widget(&self) -> gtk::Widget {
        self.inner.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        let inner = &self.inner;
        match event {
            PanelEvent::AccountSelected(_) if !inner.editable() => {
                inner.load_live(true);
                inner.changed();
            }
            PanelEvent::Backend(Notification::Margin(event)) => inner.margin_event(event),
            PanelEvent::Backend(
                Notification::Session(SessionEvent::Synchronised(_) | SessionEvent::Trading(_))
                | Notification::Orders(_),
            ) if !inner.editable() => inner.load_live(false),
            _ => {}
        }
    }

    fn quotes(&self, _quotes: &[Quote]) {
        // Live marks move: the live portfolio is read again (at most every LIVE_REFRESH).
        if !self.inner.editable()
            && self.inner.root.is_mapped()
            && !self.inner.state.borrow().live.positions.is_empty()
        {
            self.inner.load_live(false);
        }
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        let state = self.inner.state.borrow();
        Some(serde_json::json!({
            "source": if state.hypothetical { "hypothetical" } else { "live" },
            "method": state.method.unwrap_or(Method::RegT).name(),
            "portfolio": write_portfolio(&state.hypo),
        }))
    }
}

//! Positions & account: the selected account's positions with live value and unrealised P&L,
//! TWS's account values, and our margin figures beside TWS's.
//!
//! Positions come with `AccountCommand::Refresh` (after connect, each synchronisation and an
//! account change) and then one by one as TWS reports changes. Each position's instrument is
//! watched so its quotes arrive; cells are updated per frame through the bound labels.

pub mod value;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::str::FromStr;

use adw::prelude::*;
use rust_decimal::Decimal;
use tickwork_core::domain::{Quote, SecType};

use super::watchlist::format;
use super::watchlist::table::{LiveTable, by_value, text, trend};
use super::{Panel, PanelContext, PanelEvent, PanelProvider, WindowRequest};
use crate::gui::boundary::{
    AccountCommand, AccountEvent, Holding, MarginCommand, MarginEvent, MarketCommand, MarketEvent,
    Notification, SessionEvent, describe,
};

pub fn provider() -> PanelProvider {
    let has_wallet = gtk::gdk::Display::default()
        .is_some_and(|d| gtk::IconTheme::for_display(&d).has_icon("wallet-symbolic"));
    let icon = if has_wallet {
        "wallet-symbolic"
    } else {
        "accessories-calculator-symbolic"
    };
    PanelProvider {
        id: "positions".into(),
        title: "Positions".into(),
        icon: icon.into(),
        description: "Positions with live value and P&L, account values and margin".into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(PositionsPanel::new(ctx))),
    }
}

/// The account values shown, in order, with their labels.
const VALUES: [(&str, &str); 7] = [
    ("NetLiquidation", "Net liquidation"),
    ("EquityWithLoanValue", "Equity with loan"),
    ("BuyingPower", "Buying power"),
    ("AvailableFunds", "Available funds"),
    ("ExcessLiquidity", "Excess liquidity"),
    ("InitMarginReq", "Initial margin"),
    ("MaintMarginReq", "Maintenance margin"),
];

/// Our margin figures for an account from a margin event: (account, initial, maintenance),
/// from the margin service's summary of the live portfolio (Reg T).
fn our_margin(event: &MarginEvent) -> Option<(String, Decimal, Decimal)> {
    match event {
        MarginEvent::LiveSummary {
            account,
            initial,
            maintenance,
        } => Some((account.clone(), *initial, *maintenance)),
        _ => None,
    }
}

pub struct PositionRow {
    holding: Holding,
    shared: Rc<RefCell<super::Shared>>,
}

impl PositionRow {
    fn price(&self) -> Option<Decimal> {
        self.shared
            .borrow()
            .quotes
            .get(&self.holding.instrument.id)
            .and_then(Quote::reference_price)
    }

    fn valued(&self) -> Option<value::Valued> {
        let h = &self.holding;
        Some(value::value(
            h.quantity,
            h.average_cost,
            h.instrument.spec.multiplier,
            self.price()?,
        ))
    }

    fn label(&self) -> String {
        let spec = &self.holding.instrument.spec;
        match spec.sec_type {
            SecType::Option | SecType::FutureOption | SecType::Future => describe(spec),
            _ => spec.symbol.clone(),
        }
    }
}

/// How often our margin of the live portfolio is recomputed while the panel is shown.
const OUR_MARGIN_EVERY_S: u64 = 5;

struct State {
    ctx: PanelContext,
    account: Option<String>,
    rows: Vec<Rc<PositionRow>>,
    /// Instruments this panel watches (one watch each).
    watching: HashMap<i64, ()>,
    /// key → (currency, value) as TWS reports them.
    values: BTreeMap<String, (String, String)>,
    ours: Option<(Decimal, Decimal)>,
}

pub struct PositionsPanel {
    root: gtk::Box,
    table: Rc<LiveTable<PositionRow>>,
    stack: gtk::Stack,
    grid: gtk::Grid,
    state: Rc<RefCell<State>>,
}

impl PositionsPanel {
    pub fn new(ctx: PanelContext) -> Self {
        let mut table = LiveTable::<PositionRow>::new("positions-view");
        table.column(
            "Symbol",
            false,
            true,
            |r| text(r.label()),
            |a, b| a.label().cmp(&b.label()),
        );
        table.column(
            "Quantity",
            true,
            false,
            |r| text(format::quantity(Some(r.holding.quantity))),
            |a, b| a.holding.quantity.cmp(&b.holding.quantity),
        );
        let avg = |r: &PositionRow| {
            value::average_price(r.holding.average_cost, r.holding.instrument.spec.multiplier)
        };
        table.column(
            "Avg cost",
            true,
            false,
            move |r| text(format::price(Some(avg(r)))),
            move |a, b| avg(a).cmp(&avg(b)),
        );
        table.column(
            "Last",
            true,
            false,
            |r| text(format::price(r.price())),
            |a, b| by_value(a.price(), b.price()),
        );
        table.column(
            "Market value",
            true,
            false,
            |r| text(format::money(r.valued().map(|v| v.market_value))),
            |a, b| {
                by_value(
                    a.valued().map(|v| v.market_value),
                    b.valued().map(|v| v.market_value),
                )
            },
        );
        table.column(
            "Unrealized P&L",
            true,
            false,
            |r| {
                let p = r.valued().map(|v| v.unrealized);
                trend(p, format::change(p))
            },
            |a, b| {
                by_value(
                    a.valued().map(|v| v.unrealized),
                    b.valued().map(|v| v.unrealized),
                )
            },
        );
        table.column(
            "P&L %",
            true,
            false,
            |r| {
                let p = r.valued().and_then(|v| v.percent);
                trend(p, format::percent(p))
            },
            |a, b| {
                by_value(
                    a.valued().and_then(|v| v.percent),
                    b.valued().and_then(|v| v.percent),
                )
            },
        );
        let table = Rc::new(table);
        let scrolled = gtk::ScrolledWindow::builder()
            .child(&table.view)
            .vexpand(true)
            .hexpand(true)
            .build();
        let empty = adw::StatusPage::builder()
            .icon_name("view-list-symbolic")
            .title("No positions")
            .description(
                "The selected account holds nothing. Connect to TWS or open the demo, choose an \
                 account in the header, and positions appear here as they are filled.",
            )
            .build();
        empty.add_css_class("compact");
        let stack = gtk::Stack::new();
        stack.add_named(&scrolled, Some("table"));
        stack.add_named(&empty, Some("empty"));
        stack.set_visible_child_name("empty");

        let grid = gtk::Grid::builder()
            .column_spacing(18)
            .row_spacing(4)
            .margin_top(8)
            .margin_bottom(8)
            .margin_start(12)
            .margin_end(12)
            .build();
        grid.set_widget_name("account-values");
        for (col, title) in ["Account", "TWS", "Ours"].iter().enumerate() {
            let label = gtk::Label::new(Some(title));
            label.add_css_class("heading");
            label.set_xalign(if col == 0 { 0.0 } else { 1.0 });
            grid.attach(&label, col as i32, 0, 1, 1);
        }
        for (i, (_, title)) in VALUES.iter().enumerate() {
            let row = i as i32 + 1;
            let name = gtk::Label::new(Some(title));
            name.set_xalign(0.0);
            name.add_css_class("dim-label");
            grid.attach(&name, 0, row, 1, 1);
            for col in 1..=2 {
                let cell = gtk::Label::new(Some(format::UNKNOWN));
                cell.set_xalign(1.0);
                cell.add_css_class("numeric");
                cell.set_hexpand(col == 1);
                grid.attach(&cell, col, row, 1, 1);
            }
        }

        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        root.append(&stack);
        root.append(&gtk::Separator::new(gtk::Orientation::Horizontal));
        root.append(&grid);

        let account = ctx.shared.borrow().account.clone();
        let state = Rc::new(RefCell::new(State {
            ctx: ctx.clone(),
            account,
            rows: Vec::new(),
            watching: HashMap::new(),
            values: BTreeMap::new(),
            ours: None,
        }));
        let panel = Self {
            root,
            table,
            stack,
            grid,
            state,
        };
        let weak = Rc::downgrade(&panel.state);
        let table = panel.table.clone();
        panel.table.view.connect_activate(move |_, position| {
            let (Some(state), Some(row)) = (weak.upgrade(), table.at(position)) else {
                return;
            };
            state
                .borrow()
                .ctx
                .request(WindowRequest::Select(row.holding.instrument.clone()));
        });
        panel.refresh();
        // Our margin follows prices: asked again every few seconds while the panel is shown
        // (TWS's figures arrive by themselves).
        super::poll::while_shown(
            &panel.root,
            &panel.state,
            std::time::Duration::from_secs(OUR_MARGIN_EVERY_S),
            |state| {
                let st = state.borrow();
                if st.ctx.shared.borrow().profile.is_some()
                    && let Some(account) = st.account.clone()
                {
                    st.ctx.commands.send(MarginCommand::Live { account });
                }
            },
        );
        panel
    }

    /// Asks for the account's positions, values and our margin.
    fn refresh(&self) {
        let st = self.state.borrow();
        if st.ctx.shared.borrow().profile.is_none() {
            return;
        }
        if let Some(account) = st.account.clone() {
            st.ctx.commands.send(AccountCommand::Refresh {
                account: account.clone(),
            });
            st.ctx.commands.send(MarginCommand::Live { account });
        }
    }

    fn set_positions(&self, holdings: &[Holding]) {
        let mut st = self.state.borrow_mut();
        let shared = st.ctx.shared.clone();
        st.rows = holdings
            .iter()
            .filter(|h| !h.quantity.is_zero())
            .map(|h| {
                Rc::new(PositionRow {
                    holding: h.clone(),
                    shared: shared.clone(),
                })
            })
            .collect();
        self.table.set_rows(&st.rows);
        watch_rows(&mut st);
        self.stack
            .set_visible_child_name(if st.rows.is_empty() { "empty" } else { "table" });
    }

    fn position(&self, holding: &Holding) {
        let mut st = self.state.borrow_mut();
        let shared = st.ctx.shared.clone();
        if let Some(at) = st
            .rows
            .iter()
            .position(|r| r.holding.instrument.id == holding.instrument.id)
        {
            let old = st.rows.remove(at);
            self.table.remove(&old);
        }
        if !holding.quantity.is_zero() {
            let row = Rc::new(PositionRow {
                holding: holding.clone(),
                shared,
            });
            st.rows.push(row.clone());
            self.table.append(row);
        }
        watch_rows(&mut st);
        self.stack
            .set_visible_child_name(if st.rows.is_empty() { "empty" } else { "table" });
    }

    fn show_values(&self) {
        let st = self.state.borrow();
        for (i, (key, _)) in VALUES.iter().enumerate() {
            let row = i as i32 + 1;
            let tws = st
                .values
                .get(*key)
                .and_then(|(_, v)| Decimal::from_str(v).ok());
            let ours = match (*key, st.ours) {
                ("InitMarginReq", Some((initial, _))) => Some(initial),
                ("MaintMarginReq", Some((_, maintenance))) => Some(maintenance),
                _ => None,
            };
            for (col, value) in [(1, tws), (2, ours)] {
                if let Some(label) = self.grid.child_at(col, row).and_downcast::<gtk::Label>() {
                    label.set_text(&format::money(value));
                }
            }
        }
    }
}

/// Watches every held instrument once (their quotes give the value and P&L).
fn watch_rows(st: &mut State) {
    let wanted: Vec<(i64, tickwork_core::domain::InstrumentSpec)> = st
        .rows
        .iter()
        .filter(|r| !st.watching.contains_key(&r.holding.instrument.id))
        .map(|r| (r.holding.instrument.id, r.holding.instrument.spec.clone()))
        .collect();
    for (id, spec) in wanted {
        st.watching.insert(id, ());
        st.ctx.commands.send(MarketCommand::Watch { spec });
    }
}

impl Panel for PositionsPanel {
    fn widget(&self) -> gtk::Widget {
        self.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        match event {
            PanelEvent::AccountSelected(account) => {
                {
                    let mut st = self.state.borrow_mut();
                    st.account = account.clone();
                    st.values.clear();
                    st.ours = None;
                }
                self.set_positions(&[]);
                self.show_values();
                self.refresh();
            }
            PanelEvent::Backend(Notification::Session(SessionEvent::Synchronised(_))) => {
                let account = self.state.borrow().ctx.shared.borrow().account.clone();
                self.state.borrow_mut().account = account;
                self.refresh();
            }
            PanelEvent::Backend(Notification::Session(
                SessionEvent::Connected { .. } | SessionEvent::Disconnected,
            )) => {
                self.state.borrow_mut().watching.clear();
            }
            PanelEvent::Backend(Notification::Account(event)) => {
                let mine = self.state.borrow().account.clone();
                match event {
                    AccountEvent::Positions { account, positions }
                        if Some(account) == mine.as_ref() =>
                    {
                        self.set_positions(positions)
                    }
                    AccountEvent::Position { account, holding }
                        if Some(account) == mine.as_ref() =>
                    {
                        self.position(holding)
                    }
                    AccountEvent::Values { account, values } if Some(account) == mine.as_ref() => {
                        {
                            let mut st = self.state.borrow_mut();
                            for v in values {
                                // The account's own currency wins over IB's "BASE" summary line.
                                let keep = match st.values.get(&v.key) {
                                    Some((currency, _)) => {
                                        currency == "BASE" || *currency == v.currency
                                    }
                                    None => true,
                                };
                                if keep {
                                    st.values.insert(
                                        v.key.clone(),
                                        (v.currency.clone(), v.value.clone()),
                                    );
                                }
                            }
                        }
                        self.show_values();
                    }
                    _ => {}
                }
            }
            PanelEvent::Backend(Notification::Margin(event)) => {
                if let Some((account, initial, maintenance)) = our_margin(event) {
                    let mine = self.state.borrow().account.clone();
                    if Some(account) == mine {
                        self.state.borrow_mut().ours = Some((initial, maintenance));
                        self.show_values();
                    }
                }
            }
            PanelEvent::Backend(Notification::Market(MarketEvent::Watching(_))) => {}
            _ => {}
        }
    }

    fn quotes(&self, quotes: &[Quote]) {
        let st = self.state.borrow();
        let mut changed = false;
        for quote in quotes {
            for row in st
                .rows
                .iter()
                .filter(|r| r.holding.instrument.id == quote.instrument_id)
            {
                changed |= self.table.refresh(row);
            }
        }
        drop(st);
        if changed {
            self.table.resort();
        }
    }
}

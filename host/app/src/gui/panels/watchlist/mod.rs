//! The watchlist: named lists of instruments with live bid, ask, last, change and volume.
//!
//! Watching: only the instruments of the list on screen are watched (market data lines are a
//! scarce resource, about a hundred per account); switching lists unwatches the previous one's.
//! Each `Watch` this panel sends is matched with one `Unwatch` (the session counts them per
//! instrument, so another panel watching the same instrument keeps its line).
//!
//! Lists live in PostgreSQL (settings key `workbench.watchlists`), loaded when the panel opens
//! and saved on every change; the list on screen is the panel's saved state.

pub mod format;
mod lists;
pub mod table;

use std::cell::{Cell as StdCell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use adw::prelude::*;
use tickwork_core::domain::{InstrumentSpec, Quote};

use super::{Panel, PanelContext, PanelEvent, PanelProvider, WindowRequest};
use crate::gui::boundary::{
    MarketCommand, MarketEvent, Notification, SessionEvent, WatchEntry, Watchlist,
};
use table::{LiveTable, by_value, text, trend};

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "watchlist".into(),
        title: "Watchlist".into(),
        icon: "view-list-symbolic".into(),
        description: "Live prices of your lists of instruments".into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(WatchlistPanel::new(ctx))),
    }
}

/// One row: a list entry and, once watched, its instrument id.
pub struct Row {
    entry: WatchEntry,
    label: String,
    instrument: StdCell<Option<i64>>,
    shared: Rc<RefCell<super::Shared>>,
}

impl Row {
    fn quote(&self) -> Option<Quote> {
        let id = self.instrument.get()?;
        self.shared.borrow().quotes.get(&id).cloned()
    }
}

pub(crate) struct State {
    ctx: PanelContext,
    lists: Vec<Watchlist>,
    current: usize,
    loaded: bool,
    rows: Vec<Rc<Row>>,
    /// Watches this panel asked for that are not answered yet.
    pending: Vec<WatchEntry>,
    /// Instrument id → how many watches of it this panel holds.
    watching: HashMap<i64, u32>,
    /// The list name the layout asked for (applied when the lists arrive).
    wanted: Option<String>,
    /// The query whose results the popover should show.
    query: String,
}

pub struct WatchlistPanel {
    root: gtk::Box,
    table: Rc<LiveTable<Row>>,
    state: Rc<RefCell<State>>,
    ui: Rc<lists::Ui>,
}

fn quote_cell(row: &Row, pick: impl Fn(&Quote) -> Option<rust_decimal::Decimal>) -> table::Cell {
    text(format::price(row.quote().as_ref().and_then(pick)))
}

impl WatchlistPanel {
    pub fn new(ctx: PanelContext) -> Self {
        let mut table = LiveTable::<Row>::new("watchlist-view");
        table.column(
            "Symbol",
            false,
            true,
            |r| text(r.label.clone()),
            |a, b| a.label.cmp(&b.label),
        );
        let price_column =
            |table: &mut LiveTable<Row>,
             title: &str,
             pick: fn(&Quote) -> Option<rust_decimal::Decimal>| {
                table.column(
                    title,
                    true,
                    false,
                    move |r| quote_cell(r, pick),
                    move |a, b| {
                        by_value(
                            a.quote().as_ref().and_then(pick),
                            b.quote().as_ref().and_then(pick),
                        )
                    },
                );
            };
        price_column(&mut table, "Bid", |q| q.bid);
        price_column(&mut table, "Ask", |q| q.ask);
        price_column(&mut table, "Last", |q| q.last);
        let change = |r: &Row| r.quote().and_then(|q| q.change());
        table.column(
            "Change",
            true,
            false,
            move |r| {
                let c = change(r).map(|c| c.0);
                trend(c, format::change(c))
            },
            move |a, b| by_value(change(a).map(|c| c.0), change(b).map(|c| c.0)),
        );
        table.column(
            "Change %",
            true,
            false,
            move |r| {
                let c = change(r).map(|c| c.1);
                trend(c, format::percent(c))
            },
            move |a, b| by_value(change(a).map(|c| c.1), change(b).map(|c| c.1)),
        );
        table.column(
            "Volume",
            true,
            false,
            |r| text(format::quantity(r.quote().and_then(|q| q.volume))),
            |a, b| {
                by_value(
                    a.quote().and_then(|q| q.volume),
                    b.quote().and_then(|q| q.volume),
                )
            },
        );
        let table = Rc::new(table);
        let wanted = ctx
            .saved
            .as_ref()
            .and_then(|v| v.get("list"))
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let state = Rc::new(RefCell::new(State {
            ctx: ctx.clone(),
            lists: Vec::new(),
            current: 0,
            loaded: false,
            rows: Vec::new(),
            pending: Vec::new(),
            watching: HashMap::new(),
            wanted,
            query: String::new(),
        }));
        let ui = lists::Ui::build(&table, &state);
        let root = ui.root.clone();
        ctx.commands.send(MarketCommand::LoadWatchlists);
        Self {
            root,
            table,
            state,
            ui,
        }
    }
}

/// Whether a session is running (the window knows from `SessionEvent::Connected`).
fn connected(state: &State) -> bool {
    state.ctx.shared.borrow().profile.is_some()
}

/// Shows the current list: rows, ids already known, and watches for the rest.
pub(crate) fn show_current(state: &Rc<RefCell<State>>, table: &LiveTable<Row>, ui: &lists::Ui) {
    let mut st = state.borrow_mut();
    unwatch_all(&mut st);
    let shared = st.ctx.shared.clone();
    let entries = st
        .lists
        .get(st.current)
        .map(|l| l.entries.clone())
        .unwrap_or_default();
    st.rows = entries
        .into_iter()
        .map(|entry| {
            Rc::new(Row {
                label: entry.label(),
                entry,
                instrument: StdCell::new(None),
                shared: shared.clone(),
            })
        })
        .collect();
    table.set_rows(&st.rows);
    if connected(&st) {
        let entries: Vec<WatchEntry> = st.rows.iter().map(|r| r.entry.clone()).collect();
        for entry in entries {
            watch(&mut st, entry);
        }
    }
    let empty = st.rows.is_empty();
    drop(st);
    ui.refresh(state, empty);
}

pub(crate) fn watch(st: &mut State, entry: WatchEntry) {
    if let Some(spec) = entry.spec() {
        st.pending.push(entry);
        st.ctx.commands.send(MarketCommand::Watch { spec });
    }
}

fn unwatch_all(st: &mut State) {
    for (id, count) in std::mem::take(&mut st.watching) {
        for _ in 0..count {
            st.ctx
                .commands
                .send(MarketCommand::Unwatch { instrument_id: id });
        }
    }
    st.pending.clear();
}

/// Gives back one of this panel's watches of `id`.
pub(crate) fn unwatch_one(st: &mut State, id: i64) {
    if let Some(count) = st.watching.get_mut(&id) {
        *count -= 1;
        if *count == 0 {
            st.watching.remove(&id);
        }
        st.ctx
            .commands
            .send(MarketCommand::Unwatch { instrument_id: id });
    }
}

pub(crate) fn save(st: &State) {
    st.ctx
        .commands
        .send(MarketCommand::SaveWatchlists(st.lists.clone()));
    st.ctx.request(WindowRequest::LayoutChanged);
}

impl WatchlistPanel {
    fn watching(&self, instrument: &tickwork_core::domain::Instrument) {
        let mut st = self.state.borrow_mut();
        if let Some(at) = st.pending.iter().position(|e| e.is(&instrument.spec)) {
            st.pending.remove(at);
            *st.watching.entry(instrument.id).or_default() += 1;
        }
        let rows: Vec<Rc<Row>> = st
            .rows
            .iter()
            .filter(|r| r.instrument.get().is_none() && r.entry.is(&instrument.spec))
            .cloned()
            .collect();
        drop(st);
        for row in rows {
            row.instrument.set(Some(instrument.id));
            self.table.refresh(&row);
        }
    }

    fn lists_arrived(&self, lists: &[Watchlist]) {
        {
            let mut st = self.state.borrow_mut();
            st.lists = lists.to_vec();
            st.loaded = true;
            let wanted = st.wanted.take();
            st.current = wanted
                .and_then(|name| st.lists.iter().position(|l| l.name == name))
                .unwrap_or(0);
        }
        show_current(&self.state, &self.table, &self.ui);
    }
}

impl Panel for WatchlistPanel {
    fn widget(&self) -> gtk::Widget {
        self.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        let PanelEvent::Backend(notification) = event else {
            return;
        };
        match notification {
            Notification::Market(MarketEvent::Watchlists(lists)) => self.lists_arrived(lists),
            Notification::Market(MarketEvent::Watching(instrument)) => self.watching(instrument),
            Notification::Market(MarketEvent::SearchResults { query, results }) => {
                self.ui.results(&self.state, query, results)
            }
            Notification::Session(SessionEvent::Connected { .. }) => {
                // A new session: none of the old watches exist any more.
                let loaded = {
                    let mut st = self.state.borrow_mut();
                    st.watching.clear();
                    st.pending.clear();
                    st.loaded
                };
                if loaded {
                    show_current(&self.state, &self.table, &self.ui);
                }
            }
            Notification::Session(SessionEvent::Disconnected) => {
                let mut st = self.state.borrow_mut();
                st.watching.clear();
                st.pending.clear();
            }
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
                .filter(|r| r.instrument.get() == Some(quote.instrument_id))
            {
                changed |= self.table.refresh(row);
            }
        }
        drop(st);
        if changed {
            self.table.resort();
        }
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        let st = self.state.borrow();
        let name = st.lists.get(st.current).map(|l| l.name.clone())?;
        Some(serde_json::json!({ "list": name }))
    }
}

/// Adds a searched contract to the current list (once) and watches it.
pub(crate) fn add(
    state: &Rc<RefCell<State>>,
    table: &LiveTable<Row>,
    ui: &lists::Ui,
    spec: &InstrumentSpec,
) {
    let mut st = state.borrow_mut();
    let current = st.current;
    let Some(list) = st.lists.get_mut(current) else {
        return;
    };
    if list.entries.iter().any(|e| e.is(spec)) {
        let symbol = spec.symbol.clone();
        let name = list.name.clone();
        st.ctx.request(WindowRequest::Toast(format!(
            "{symbol} is already in {name}"
        )));
        return;
    }
    let entry = WatchEntry::from_spec(spec);
    list.entries.push(entry.clone());
    let known = st
        .ctx
        .shared
        .borrow()
        .instruments
        .values()
        .find(|i| entry.is(&i.spec))
        .map(|i| i.id);
    let row = Rc::new(Row {
        label: entry.label(),
        entry: entry.clone(),
        instrument: StdCell::new(known.filter(|id| st.watching.contains_key(id))),
        shared: st.ctx.shared.clone(),
    });
    st.rows.push(row.clone());
    table.append(row);
    if connected(&st) {
        watch(&mut st, entry);
    }
    save(&st);
    drop(st);
    ui.refresh(state, false);
}

/// Removes a row from the current list and gives back its watch.
pub(crate) fn remove(
    state: &Rc<RefCell<State>>,
    table: &LiveTable<Row>,
    ui: &lists::Ui,
    row: &Rc<Row>,
) {
    let mut st = state.borrow_mut();
    let current = st.current;
    if let Some(list) = st.lists.get_mut(current)
        && let Some(at) = list.entries.iter().position(|e| *e == row.entry)
    {
        list.entries.remove(at);
    }
    st.rows.retain(|r| !Rc::ptr_eq(r, row));
    if let Some(id) = row.instrument.get() {
        unwatch_one(&mut st, id);
    }
    table.remove(row);
    save(&st);
    let empty = st.rows.is_empty();
    drop(st);
    ui.refresh(state, empty);
}

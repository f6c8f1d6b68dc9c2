//! Example panel plugin: a heat map of an option chain.
//!
//! The panel subscribes to the underlying ([`UNDERLYING`]) through the host's market-data
//! service. At its first quote it picks the nearest monthly expiry (the third Friday after the
//! quote's date) and the strikes around the price, subscribes to each call and put (symbols
//! like `SPY 20261218 C 600`), and shows them as a grid: bid, ask and a metric for the calls,
//! the strike, the same for the puts. The metric colours the cells: the bid/ask spread (wide
//! markets hot) or the change of the mid since the panel opened (red down, green up).
//!
//! What it shows a plugin author: the SDK runs `create` with GTK ready for this library's own
//! gtk-rs; state shared with signal handlers lives in an `Rc<RefCell<…>>`; CSS classes are
//! prefixed with the plugin id; every cell and control has an accessible name; and a strike
//! the host does not list shows as `n/a` instead of failing the panel.

mod chain;
mod view;

use std::cell::RefCell;
use std::rc::Rc;

use gtk::prelude::*;
use tickwork_plugin_api::sdk::gtk;
use tickwork_plugin_api::sdk::panel::Panel;
use tickwork_plugin_api::sdk::{Event, MarketData, PanelCtx, Tick};

use chain::{
    Chain, Quote, Row, Side, date_of, monthly_expiry_after, option_symbol, strikes_around,
};
use view::View;

tickwork_plugin_api::export_plugin! {
    id: "org.tickwork.example.chain-heatmap",
    version: env!("CARGO_PKG_VERSION"),
    strategies: [],
    margin_rules: [],
    panels: [ChainHeatmap],
}

/// The underlying whose chain is shown.
pub const UNDERLYING: &str = "SPY";

struct State {
    underlying_id: Option<u32>,
    chain: Option<Chain>,
    view: View,
}

/// The panel: its state is shared with the metric drop-down's handler.
pub struct ChainHeatmap {
    state: Rc<RefCell<State>>,
}

/// Subscribes to every option of the chain around `price`; a refused subscription leaves its
/// cell `n/a`.
fn build_chain(ctx: &mut PanelCtx, tick: &Tick, price: rust_decimal::Decimal) -> Chain {
    let expiry = monthly_expiry_after(date_of(tick.ts_unix_ns));
    let mut refused = Vec::new();
    let mut subscribe = |side: Side, strike| {
        let symbol = option_symbol(UNDERLYING, expiry, side, strike);
        match ctx.subscribe(&symbol, MarketData::TICKS) {
            Ok(id) => Some(id),
            Err(e) => {
                refused.push(format!("{symbol}: {e}"));
                None
            }
        }
    };
    let rows = strikes_around(price)
        .into_iter()
        .map(|strike| Row {
            strike,
            call_id: subscribe(Side::Call, strike),
            put_id: subscribe(Side::Put, strike),
            call: Quote::default(),
            put: Quote::default(),
        })
        .collect();
    if !refused.is_empty() {
        ctx.warn(&format!(
            "{} option subscriptions refused, e.g. {}",
            refused.len(),
            refused[0]
        ));
    }
    Chain {
        underlying: UNDERLYING.to_owned(),
        expiry,
        rows,
    }
}

impl Panel for ChainHeatmap {
    const PANEL_ID: &'static str = "org.tickwork.example.chain-heatmap";
    const TITLE: &'static str = "Chain heat map";

    fn create(ctx: &mut PanelCtx) -> Result<(Self, gtk::Widget), String> {
        let view = View::new(UNDERLYING);
        let underlying_id = match ctx.subscribe(UNDERLYING, MarketData::TICKS) {
            Ok(id) => Some(id),
            Err(e) => {
                view.show_empty(&format!("Cannot show the {UNDERLYING} chain: {e}"));
                None
            }
        };
        let root: gtk::Widget = view.root.clone().upcast();
        let state = Rc::new(RefCell::new(State {
            underlying_id,
            chain: None,
            view,
        }));
        let weak = Rc::downgrade(&state);
        state
            .borrow()
            .view
            .metric
            .connect_selected_notify(move |_| {
                if let Some(state) = weak.upgrade()
                    && let Ok(s) = state.try_borrow()
                    && let Some(chain) = &s.chain
                {
                    s.view.recolour(chain, s.view.selected_metric());
                }
            });
        Ok((Self { state }, root))
    }

    fn on_event(&mut self, ctx: &mut PanelCtx, event: &Event<'_>) -> Result<(), String> {
        let Event::Tick(tick) = event else {
            return Ok(());
        };
        let mut s = self.state.borrow_mut();
        let State {
            underlying_id,
            chain,
            view,
        } = &mut *s;
        let metric = view.selected_metric();
        if Some(tick.instrument_id) == *underlying_id {
            let Some(price) = tick.mid_or_last() else {
                return Ok(());
            };
            if chain.is_none() {
                let built = build_chain(ctx, tick, price);
                if built
                    .rows
                    .iter()
                    .all(|r| r.call_id.is_none() && r.put_id.is_none())
                {
                    view.show_empty(&format!(
                        "The host lists no {UNDERLYING} options expiring {}.",
                        built.expiry.format("%Y-%m-%d")
                    ));
                } else {
                    view.show_chain(&built, metric);
                }
                *chain = Some(built);
            }
            if let Some(c) = chain.as_ref().filter(|_| view.showing_chain()) {
                view.header.set_text(&format!(
                    "{UNDERLYING} {} · expiry {}",
                    view::cell_text(Some(price)),
                    c.expiry.format("%Y-%m-%d")
                ));
            }
        } else if let Some(c) = chain.as_mut()
            && let Some(row) = c.on_quote(tick.instrument_id, tick.bid, tick.ask)
        {
            view.update_row(c, row, metric);
        }
        Ok(())
    }

    fn on_destroy(&mut self, ctx: &mut PanelCtx) {
        let s = self.state.borrow();
        let ids = s.underlying_id.into_iter().chain(
            s.chain
                .iter()
                .flat_map(|c| c.rows.iter().flat_map(|r| [r.call_id, r.put_id]))
                .flatten(),
        );
        for id in ids {
            let _ = ctx.unsubscribe(id);
        }
    }
}

#[cfg(test)]
mod tests;

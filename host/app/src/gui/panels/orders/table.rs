//! The blotter's rows as text (pure, tested) and the column helpers of its two tables.

use std::collections::HashMap;

use adw::prelude::*;
use chrono::{DateTime, Local, Utc};
use gtk::{gio, glib};
use rust_decimal::Decimal;
use tickwork_core::domain::{ExecSide, Execution, Order, OrderSide};

use crate::gui::panels::ticket::form::price_text;
use crate::gui::panels::ticket::preview::money;

/// A working order as the table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    pub order: Order,
    pub symbol: String,
}

/// A fill as the table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRow {
    pub execution: Execution,
    pub symbol: String,
}

fn quantity(q: Decimal) -> String {
    q.normalize().to_string()
}

fn price(p: Option<Decimal>) -> String {
    p.map(price_text).unwrap_or_default()
}

pub fn side(side: OrderSide) -> &'static str {
    match side {
        OrderSide::Buy => "Buy",
        OrderSide::Sell => "Sell",
    }
}

pub fn exec_side(side: ExecSide) -> &'static str {
    match side {
        ExecSide::Bought => "Bought",
        ExecSide::Sold => "Sold",
    }
}

/// What a modification or cancel asked for that TWS has not confirmed yet.
pub fn pending(order: &Order) -> String {
    let mut parts = Vec::new();
    if order.cancel_requested_at.is_some() {
        parts.push("cancel".to_owned());
    }
    if let Some(change) = &order.requested {
        let mut text = Vec::new();
        if change.quantity != order.quantity {
            text.push(format!("qty {}", quantity(change.quantity)));
        }
        if change.limit_price != order.limit_price {
            text.push(format!("limit {}", price(change.limit_price)));
        }
        if change.stop_price != order.stop_price {
            text.push(format!("stop {}", price(change.stop_price)));
        }
        if text.is_empty() {
            text.push("modify".to_owned());
        }
        parts.push(text.join(", "));
    }
    parts.join("; ")
}

/// The text of each order column, in the table's order.
pub const ORDER_COLUMNS: [(&str, bool); 10] = [
    ("Account", false),
    ("Symbol", false),
    ("Side", false),
    ("Qty", true),
    ("Type", false),
    ("Limit", true),
    ("Stop", true),
    ("Filled", true),
    ("Status", false),
    ("Pending", false),
];

pub fn order_cell(row: &OrderRow, column: usize) -> String {
    let o = &row.order;
    match column {
        0 => o.account.clone(),
        1 => row.symbol.clone(),
        2 => side(o.side).to_owned(),
        3 => quantity(o.quantity),
        4 => o.order_type.to_string(),
        5 => price(o.limit_price),
        6 => price(o.stop_price),
        7 => quantity(o.filled_quantity),
        8 => o.status.clone(),
        9 => pending(o),
        _ => String::new(),
    }
}

pub fn order_tooltip(row: &OrderRow, column: usize) -> Option<String> {
    match column {
        8 => row.order.status_reason.clone(),
        1 => Some(format!(
            "{} (from {})",
            row.order.order_ref, row.order.origin
        )),
        _ => None,
    }
}

pub const EXECUTION_COLUMNS: [(&str, bool); 8] = [
    ("Time", false),
    ("Account", false),
    ("Symbol", false),
    ("Side", false),
    ("Qty", true),
    ("Price", true),
    ("Commission", true),
    ("Realized P&L", true),
];

pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local).format("%H:%M:%S").to_string()
}

pub fn execution_cell(row: &ExecutionRow, column: usize) -> String {
    let e = &row.execution;
    match column {
        0 => local_time(e.executed_at),
        1 => e.account.clone(),
        2 => row.symbol.clone(),
        3 => exec_side(e.side).to_owned(),
        4 => quantity(e.quantity),
        5 => price_text(e.price),
        6 => e.commission.map(money).unwrap_or_default(),
        7 => e.realized_pnl.map(money).unwrap_or_default(),
        _ => String::new(),
    }
}

pub fn execution_tooltip(row: &ExecutionRow, column: usize) -> Option<String> {
    let e = &row.execution;
    match column {
        0 => Some(e.executed_at.with_timezone(&Local).to_rfc2822()),
        2 => e.order_ref.clone().map(|r| format!("order {r}")),
        6 => e.commission_currency.clone(),
        _ => None,
    }
}

/// The symbol of an instrument id, or the id when the instrument is not known.
pub fn symbol_of(symbols: &HashMap<i64, String>, id: i64) -> String {
    symbols
        .get(&id)
        .cloned()
        .unwrap_or_else(|| format!("#{id}"))
}

/// A text column over rows of `T` held in `glib::BoxedAnyObject`s.
pub fn text_column<T: 'static>(
    title: &str,
    numeric: bool,
    text: impl Fn(&T) -> String + 'static,
    tooltip: impl Fn(&T) -> Option<String> + 'static,
) -> gtk::ColumnViewColumn {
    crate::gui::panels::columns::text_column(title, numeric, move |item| match item
        .downcast_ref::<glib::BoxedAnyObject>(
    ) {
        Some(row) => {
            let row = row.borrow::<T>();
            (text(&row), tooltip(&row))
        }
        None => (String::new(), None),
    })
}

/// Replaces every row of a store at once (one change signal).
pub fn replace<T: 'static>(store: &gio::ListStore, rows: Vec<T>) {
    let items: Vec<glib::BoxedAnyObject> =
        rows.into_iter().map(glib::BoxedAnyObject::new).collect();
    store.splice(0, store.n_items(), &items);
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    /// An exact decimal from its text (the app has no decimal macro).
    fn d(text: &str) -> rust_decimal::Decimal {
        text.parse().expect("a decimal")
    }
    use tickwork_core::domain::{OrderType, RequestedChange, TimeInForce};

    use super::*;

    fn order() -> OrderRow {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 14, 30, 0).unwrap();
        OrderRow {
            order: Order {
                order_ref: "tw-1".into(),
                account: "DU1".into(),
                instrument_id: 7,
                origin: "ui".into(),
                side: OrderSide::Sell,
                quantity: d("10"),
                order_type: OrderType::StopLimit,
                limit_price: Some(d("187.5")),
                stop_price: Some(d("188")),
                time_in_force: TimeInForce::Day,
                parent_ref: None,
                tws_order_id: Some(3),
                tws_perm_id: None,
                tws_client_id: None,
                status: "Submitted".into(),
                status_reason: None,
                requested: None,
                cancel_requested_at: None,
                filled_quantity: d("2.50"),
                average_fill_price: None,
                created_at: at,
                updated_at: at,
            },
            symbol: "AAPL".into(),
        }
    }

    #[test]
    fn order_cells_read_as_a_trader_expects() {
        let row = order();
        let cells: Vec<String> = (0..ORDER_COLUMNS.len())
            .map(|c| order_cell(&row, c))
            .collect();
        assert_eq!(
            cells,
            vec![
                "DU1",
                "AAPL",
                "Sell",
                "10",
                "STP LMT",
                "187.50",
                "188.00",
                "2.5",
                "Submitted",
                ""
            ]
        );
    }

    #[test]
    fn pending_changes_name_what_changes() {
        let mut row = order();
        row.order.requested = Some(RequestedChange {
            quantity: d("20"),
            limit_price: Some(d("186")),
            stop_price: Some(d("188")),
            at: row.order.created_at,
        });
        assert_eq!(pending(&row.order), "qty 20, limit 186.00");
        row.order.cancel_requested_at = Some(row.order.created_at);
        assert_eq!(pending(&row.order), "cancel; qty 20, limit 186.00");
    }

    #[test]
    fn execution_cells_and_unknown_symbols() {
        let row = ExecutionRow {
            execution: Execution {
                exec_id: "e1".into(),
                order_ref: Some("tw-1".into()),
                tws_order_id: None,
                tws_perm_id: None,
                account: "DU2".into(),
                instrument_id: 7,
                side: ExecSide::Bought,
                quantity: d("5"),
                price: d("187.25"),
                commission: Some(d("1")),
                commission_currency: Some("USD".into()),
                realized_pnl: Some(d("-1234.5")),
                executed_at: Utc::now(),
            },
            symbol: symbol_of(&HashMap::new(), 7),
        };
        let cells: Vec<String> = (1..EXECUTION_COLUMNS.len())
            .map(|c| execution_cell(&row, c))
            .collect();
        assert_eq!(
            cells,
            vec!["DU2", "#7", "Bought", "5", "187.25", "1.00", "-1,234.50"]
        );
        assert_eq!(execution_cell(&row, 0).len(), "14:30:00".len());
    }
}

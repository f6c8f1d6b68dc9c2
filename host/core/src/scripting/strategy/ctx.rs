//! `ctx`, the only thing a strategy can act through. Its order functions do not trade: they
//! queue *intents* that the host sends through the risk gate after the hook returns (or, in a
//! backtest, hands to the fill model). It also answers what the strategy may read: its own
//! positions and working orders, its parameters, and the time of the event being handled.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Position};
use rust_decimal::Decimal;

use super::book::Book;
use super::symbols;
use super::types::ScriptOpenOrder;
use crate::domain::{OptionRight, OrderSide, OrderType, TimeInForce};

/// An order the script asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    /// Unique within the instance; what `ctx.buy(…)` returned.
    pub intent_id: i64,
    pub symbol: String,
    pub side: OrderSide,
    pub quantity: Decimal,
    pub order_type: OrderType,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub time_in_force: TimeInForce,
    pub tag: String,
}

impl OrderRequest {
    /// The update the script hears once the order is accepted (sent, or queued in a backtest).
    pub fn working(&self) -> super::types::ScriptOrderUpdate {
        super::types::ScriptOrderUpdate {
            intent_id: self.intent_id,
            symbol: self.symbol.clone(),
            status: super::types::IntentStatus::Working,
            filled: Decimal::ZERO,
            remaining: self.quantity,
            reason: String::new(),
        }
    }
}

/// What a hook asked the host to do, in the order it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Place(OrderRequest),
    Cancel { intent_id: i64 },
    CancelAll,
}

/// A timer `ctx.set_timer(name, ms)` asked for (0 ms cancels it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerRequest {
    pub name: String,
    pub after_ms: i64,
}

#[derive(Debug, Default)]
pub(super) struct CtxInner {
    pub now: Option<DateTime<Utc>>,
    pub next_intent: i64,
    pub intents: Vec<Intent>,
    pub timers: Vec<TimerRequest>,
    pub book: Book,
    pub params: Map,
}

/// The script's handle on its instance; cloning it is cheap and shares the instance.
#[derive(Debug, Clone, Default)]
pub struct StrategyCtx(Arc<Mutex<CtxInner>>);

impl StrategyCtx {
    pub(super) fn new(params: Map, next_intent: i64) -> Self {
        Self(Arc::new(Mutex::new(CtxInner {
            next_intent: next_intent.max(1),
            params,
            ..CtxInner::default()
        })))
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, CtxInner> {
        // A panic inside a hook is caught and faults the instance; the data stays usable.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn place(&self, request: OrderRequestDraft) -> Result<i64, Box<EvalAltResult>> {
        let spec = symbols::spec_of(&request.symbol).map_err(fail)?;
        let symbol = symbols::symbol_of(&spec);
        let mut inner = self.lock();
        let intent_id = inner.next_intent;
        inner.next_intent += 1;
        inner.book.set_multiplier(&symbol, spec.multiplier);
        let order = OrderRequest {
            intent_id,
            symbol,
            side: request.side,
            quantity: request.quantity,
            order_type: request.order_type,
            limit: request.limit,
            stop: request.stop,
            time_in_force: request.time_in_force,
            tag: request.tag,
        };
        inner.book.add_open(ScriptOpenOrder {
            intent_id,
            symbol: order.symbol.clone(),
            side: order.side,
            quantity: order.quantity,
            filled: Decimal::ZERO,
            order_type: order.order_type.as_str().to_owned(),
            limit: order.limit,
            stop: order.stop,
            tag: order.tag.clone(),
        });
        inner.intents.push(Intent::Place(order));
        Ok(intent_id)
    }
}

struct OrderRequestDraft {
    symbol: String,
    side: OrderSide,
    quantity: Decimal,
    order_type: OrderType,
    limit: Option<Decimal>,
    stop: Option<Decimal>,
    time_in_force: TimeInForce,
    tag: String,
}

/// What a native function gives a script: a value or a run-time error.
type Script<T> = Result<T, Box<EvalAltResult>>;

fn fail(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        message.into().into(),
        Position::NONE,
    ))
}

/// An integer or a decimal as a `Decimal` (scripts write `100` and `100.5` alike).
fn number(value: &Dynamic, what: &str) -> Result<Decimal, Box<EvalAltResult>> {
    if let Some(d) = value.clone().try_cast::<Decimal>() {
        return Ok(d);
    }
    if let Ok(i) = value.as_int() {
        return Ok(Decimal::from(i));
    }
    Err(fail(format!(
        "{what} must be a number, not {}",
        value.type_name()
    )))
}

fn positive(value: &Dynamic, what: &str) -> Result<Decimal, Box<EvalAltResult>> {
    let n = number(value, what)?;
    if n > Decimal::ZERO {
        Ok(n)
    } else {
        Err(fail(format!("{what} must be positive, not {n}")))
    }
}

fn draft(
    symbol: &str,
    side: OrderSide,
    qty: &Dynamic,
    order_type: OrderType,
    limit: Option<&Dynamic>,
    stop: Option<&Dynamic>,
) -> Result<OrderRequestDraft, Box<EvalAltResult>> {
    Ok(OrderRequestDraft {
        symbol: symbol.to_owned(),
        side,
        quantity: positive(qty, "quantity")?,
        order_type,
        limit: limit.map(|p| positive(p, "limit price")).transpose()?,
        stop: stop.map(|p| positive(p, "stop price")).transpose()?,
        time_in_force: TimeInForce::Day,
        tag: String::new(),
    })
}

/// `ctx.submit(#{side, symbol, qty, type, price, stop, tif, tag})`: every key checked.
fn from_map(map: &Map) -> Result<OrderRequestDraft, Box<EvalAltResult>> {
    const KEYS: [&str; 8] = [
        "side", "symbol", "qty", "type", "price", "stop", "tif", "tag",
    ];
    if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(fail(format!(
            "submit: unknown key `{key}` (keys: {})",
            KEYS.join(", ")
        )));
    }
    let text = |key: &str| -> Result<Option<String>, Box<EvalAltResult>> {
        map.get(key)
            .map(|v| {
                v.clone()
                    .into_immutable_string()
                    .map(|s| s.to_string())
                    .map_err(|t| fail(format!("submit: `{key}` must be a string, not {t}")))
            })
            .transpose()
    };
    let side = match text("side")?.as_deref().map(str::to_uppercase).as_deref() {
        Some("BUY") => OrderSide::Buy,
        Some("SELL") => OrderSide::Sell,
        other => {
            return Err(fail(format!(
                "submit: `side` must be \"BUY\" or \"SELL\", not {other:?}"
            )));
        }
    };
    let symbol = text("symbol")?.ok_or_else(|| fail("submit: `symbol` is missing"))?;
    let order_type = match text("type")?.as_deref().map(str::to_uppercase).as_deref() {
        None | Some("MKT" | "MARKET") => OrderType::Market,
        Some("LMT" | "LIMIT") => OrderType::Limit,
        Some("STP" | "STOP") => OrderType::Stop,
        Some("STP LMT" | "STOP_LIMIT") => OrderType::StopLimit,
        Some(other) => return Err(fail(format!("submit: unknown order type `{other}`"))),
    };
    let qty = map
        .get("qty")
        .ok_or_else(|| fail("submit: `qty` is missing"))?;
    let mut draft = draft(
        &symbol,
        side,
        qty,
        order_type,
        map.get("price"),
        map.get("stop"),
    )?;
    let needs_limit = matches!(order_type, OrderType::Limit | OrderType::StopLimit);
    let needs_stop = matches!(order_type, OrderType::Stop | OrderType::StopLimit);
    if needs_limit != draft.limit.is_some() || needs_stop != draft.stop.is_some() {
        return Err(fail(format!(
            "submit: a {} order needs {}",
            order_type.as_str(),
            match (needs_limit, needs_stop) {
                (true, true) => "`price` and `stop`",
                (true, false) => "`price` and no `stop`",
                (false, true) => "`stop` and no `price`",
                (false, false) => "neither `price` nor `stop`",
            }
        )));
    }
    draft.time_in_force = match text("tif")?.as_deref().map(str::to_uppercase).as_deref() {
        None | Some("DAY") => TimeInForce::Day,
        Some("GTC") => TimeInForce::Gtc,
        Some("IOC") => TimeInForce::Ioc,
        Some(other) => return Err(fail(format!("submit: unknown time in force `{other}`"))),
    };
    draft.tag = text("tag")?.unwrap_or_default();
    Ok(draft)
}

thread_local! {
    /// Lines printed by the hook running on this thread (the engine is shared by threads).
    static CONSOLE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Lines one hook call may print; more are summarised, so a print in a loop cannot flood.
pub const CONSOLE_LINES_PER_CALL: usize = 200;

fn console_push(line: String) {
    CONSOLE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < CONSOLE_LINES_PER_CALL {
            c.push(line);
        } else if c.len() == CONSOLE_LINES_PER_CALL {
            c.push(format!(
                "… more lines from this call were dropped (at most {CONSOLE_LINES_PER_CALL})"
            ));
        }
    });
}

/// What the hook just run printed (and clears it).
pub(super) fn take_console() -> Vec<String> {
    CONSOLE.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

/// The date of the event being handled (never the wall clock, so backtests repeat).
fn today(c: &StrategyCtx) -> Result<chrono::NaiveDate, Box<EvalAltResult>> {
    c.lock()
        .now
        .map(|t| t.date_naive())
        .ok_or_else(|| fail("no event has happened yet"))
}

/// Registers the script types, `print`/`debug` into the console, and every `ctx` function.
pub fn register(engine: &mut Engine) {
    use super::types::*;
    engine
        .build_type::<ScriptBar>()
        .build_type::<ScriptTick>()
        .build_type::<ScriptFill>()
        .build_type::<ScriptOrderUpdate>()
        .build_type::<ScriptPosition>()
        .build_type::<ScriptOpenOrder>()
        .register_type_with_name::<StrategyCtx>("Ctx");
    engine.on_print(|text| console_push(text.to_owned()));
    engine.on_debug(|text, _source, position| console_push(format!("debug {position}: {text}")));

    let simple = |side: OrderSide, order_type: OrderType| {
        move |c: &mut StrategyCtx, sym: ImmutableString, qty: Dynamic| {
            c.place(draft(&sym, side, &qty, order_type, None, None)?)
        }
    };
    engine.register_fn("buy", simple(OrderSide::Buy, OrderType::Market));
    engine.register_fn("sell", simple(OrderSide::Sell, OrderType::Market));
    let priced = |side: OrderSide, order_type: OrderType| {
        move |c: &mut StrategyCtx, sym: ImmutableString, qty: Dynamic, px: Dynamic| {
            let (limit, stop) = match order_type {
                OrderType::Limit => (Some(&px), None),
                _ => (None, Some(&px)),
            };
            c.place(draft(&sym, side, &qty, order_type, limit, stop)?)
        }
    };
    engine.register_fn("buy_limit", priced(OrderSide::Buy, OrderType::Limit));
    engine.register_fn("sell_limit", priced(OrderSide::Sell, OrderType::Limit));
    engine.register_fn("buy_stop", priced(OrderSide::Buy, OrderType::Stop));
    engine.register_fn("sell_stop", priced(OrderSide::Sell, OrderType::Stop));
    engine.register_fn("submit", |c: &mut StrategyCtx, order: Map| {
        c.place(from_map(&order)?)
    });
    engine.register_fn("cancel", |c: &mut StrategyCtx, id: i64| -> Script<()> {
        let mut inner = c.lock();
        if inner.book.open_order(id).is_none() {
            return Err(fail(format!(
                "cancel: {id} is not a working order of this strategy"
            )));
        }
        inner.intents.push(Intent::Cancel { intent_id: id });
        Ok(())
    });
    engine.register_fn("cancel_all", |c: &mut StrategyCtx| {
        c.lock().intents.push(Intent::CancelAll);
    });
    engine.register_fn(
        "position",
        |c: &mut StrategyCtx, sym: ImmutableString| -> Script<ScriptPosition> {
            let spec = symbols::spec_of(&sym).map_err(fail)?;
            Ok(c.lock().book.position(&symbols::symbol_of(&spec)))
        },
    );
    engine.register_fn("open_orders", |c: &mut StrategyCtx| {
        c.lock()
            .book
            .open_orders()
            .cloned()
            .map(Dynamic::from)
            .collect::<Array>()
    });
    engine.register_fn(
        "param",
        |c: &mut StrategyCtx, name: ImmutableString| -> Script<Dynamic> {
            c.lock()
                .params
                .get(name.as_str())
                .cloned()
                .ok_or_else(|| fail(format!("param: no parameter `{name}`")))
        },
    );
    engine.register_fn("now", |c: &mut StrategyCtx| c.lock().now.map_or(0, nanos));
    engine.register_fn("today", |c: &mut StrategyCtx| {
        c.lock()
            .now
            .map(|t| t.format("%Y%m%d").to_string())
            .unwrap_or_default()
    });
    engine.register_fn(
        "set_timer",
        |c: &mut StrategyCtx, name: ImmutableString, ms: i64| -> Script<()> {
            if !(0..=86_400_000).contains(&ms) {
                return Err(fail(format!("set_timer: {ms} ms is outside 0 to 86400000")));
            }
            c.lock().timers.push(TimerRequest {
                name: name.to_string(),
                after_ms: ms,
            });
            Ok(())
        },
    );
    engine.register_fn(
        "option",
        |c: &mut StrategyCtx,
         underlying: ImmutableString,
         expiry: ImmutableString,
         right: ImmutableString,
         strike: Dynamic|
         -> Script<String> {
            let _ = c;
            let expiry = chrono::NaiveDate::parse_from_str(&expiry, "%Y%m%d")
                .map_err(|_| fail(format!("option: expiry `{expiry}` must be YYYYMMDD")))?;
            let right: OptionRight = right
                .parse()
                .map_err(|_| fail(format!("option: right `{right}` must be \"C\" or \"P\"")))?;
            let strike = positive(&strike, "strike")?;
            Ok(symbols::option_symbol(&underlying, expiry, right, strike))
        },
    );
    engine.register_fn(
        "monthly_expiry",
        |c: &mut StrategyCtx, days: i64| -> Script<String> {
            Ok(symbols::monthly_expiry_after(today(c)?, days)
                .format("%Y%m%d")
                .to_string())
        },
    );
    engine.register_fn(
        "days_until",
        |c: &mut StrategyCtx, date: ImmutableString| -> Script<i64> {
            let date = chrono::NaiveDate::parse_from_str(&date, "%Y%m%d")
                .map_err(|_| fail(format!("days_until: `{date}` must be YYYYMMDD")))?;
            Ok((date - today(c)?).num_days())
        },
    );
}

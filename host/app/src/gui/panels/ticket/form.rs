//! The ticket's form as data: what the trader typed, its validation (the reason shown at each
//! field) and the order intent it stands for. No widgets here, so it is tested directly.

use std::str::FromStr;

use rust_decimal::Decimal;
use tickwork_core::domain::{
    InstrumentSpec, OrderIntent, OrderSide, OrderType, Origin, TimeInForce,
};

/// The order types in the ticket's drop-down, in its order.
pub const ORDER_TYPES: [OrderType; 4] = [
    OrderType::Market,
    OrderType::Limit,
    OrderType::Stop,
    OrderType::StopLimit,
];

/// The times in force in the ticket's drop-down, in its order.
pub const TIMES_IN_FORCE: [TimeInForce; 3] = [TimeInForce::Day, TimeInForce::Gtc, TimeInForce::Ioc];

pub fn order_type_label(order_type: OrderType) -> &'static str {
    match order_type {
        OrderType::Market => "Market",
        OrderType::Limit => "Limit",
        OrderType::Stop => "Stop",
        OrderType::StopLimit => "Stop limit",
    }
}

pub fn tif_label(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Day => "Day",
        TimeInForce::Gtc => "Good till cancelled",
        TimeInForce::Ioc => "Immediate or cancel",
    }
}

/// Which field a problem belongs to (its reason is shown under that field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Account,
    Instrument,
    Quantity,
    Limit,
    Stop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: Field,
    pub reason: String,
}

/// Everything the ticket holds, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub account: Option<String>,
    pub instrument: Option<InstrumentSpec>,
    pub side: OrderSide,
    pub quantity: String,
    pub order_type: OrderType,
    pub limit: String,
    pub stop: String,
    pub tif: TimeInForce,
}

impl Default for Form {
    fn default() -> Self {
        Self {
            account: None,
            instrument: None,
            side: OrderSide::Buy,
            quantity: String::new(),
            order_type: OrderType::Limit,
            limit: String::new(),
            stop: String::new(),
            tif: TimeInForce::Day,
        }
    }
}

/// A stock symbol as typed (`aapl `) as IB spells it (`AAPL`); `None` when it cannot be one.
pub fn stock_symbol(text: &str) -> Option<String> {
    let symbol = text.trim().to_uppercase();
    let valid = !symbol.is_empty()
        && symbol.len() <= 12
        && symbol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ' ' | '-'));
    valid.then_some(symbol)
}

/// A positive decimal as typed, exactly (`187.5` is 187.5, never a float's neighbour).
pub fn positive_decimal(text: &str, what: &str) -> Result<Decimal, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("Enter a {what}"));
    }
    let value = Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| format!("“{text}” is not a number"))?;
    if value <= Decimal::ZERO {
        return Err(format!("The {what} must be more than 0"));
    }
    Ok(value.normalize())
}

impl Form {
    pub fn needs_limit(&self) -> bool {
        matches!(self.order_type, OrderType::Limit | OrderType::StopLimit)
    }

    pub fn needs_stop(&self) -> bool {
        matches!(self.order_type, OrderType::Stop | OrderType::StopLimit)
    }

    /// Every problem, in the order of the fields.
    pub fn problems(&self) -> Vec<Problem> {
        self.check().err().unwrap_or_default()
    }

    /// The intent this form stands for, from the ticket (origin `ui`).
    pub fn intent(&self) -> Result<OrderIntent, Vec<Problem>> {
        self.check()
    }

    fn check(&self) -> Result<OrderIntent, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |field, reason: String| problems.push(Problem { field, reason });
        let account = self.account.clone().filter(|a| !a.is_empty());
        if account.is_none() {
            problem(
                Field::Account,
                "No account: TWS has not reported any yet".into(),
            );
        }
        if self.instrument.is_none() {
            problem(
                Field::Instrument,
                "Choose an instrument: type a symbol and press Enter".into(),
            );
        }
        let quantity = positive_decimal(&self.quantity, "quantity")
            .map_err(|reason| problem(Field::Quantity, reason))
            .ok();
        let limit = if self.needs_limit() {
            positive_decimal(&self.limit, "limit price")
                .map_err(|reason| problem(Field::Limit, reason))
                .ok()
        } else {
            None
        };
        let stop = if self.needs_stop() {
            positive_decimal(&self.stop, "stop price")
                .map_err(|reason| problem(Field::Stop, reason))
                .ok()
        } else {
            None
        };
        match (account, &self.instrument, quantity) {
            (Some(account), Some(instrument), Some(quantity)) if problems.is_empty() => {
                Ok(OrderIntent {
                    origin: Origin::Ui,
                    account,
                    instrument: instrument.clone(),
                    side: self.side,
                    quantity,
                    order_type: self.order_type,
                    limit_price: limit,
                    stop_price: stop,
                    time_in_force: self.tif,
                    parent_ref: None,
                })
            }
            _ => Err(problems),
        }
    }
}

/// A price as a trader reads it: at least two decimals (`187.50`), all that were given.
pub fn price_text(price: Decimal) -> String {
    let mut shown = price.normalize();
    if shown.scale() < 2 {
        shown.rescale(2);
    }
    shown.to_string()
}

/// One line for the confirmation: `Buy 10 AAPL LMT 187.50 DAY on DU123`.
pub fn summary(intent: &OrderIntent) -> String {
    let side = match intent.side {
        OrderSide::Buy => "Buy",
        OrderSide::Sell => "Sell",
    };
    let mut text = format!(
        "{side} {} {} {}",
        intent.quantity.normalize(),
        intent.instrument.symbol,
        intent.order_type
    );
    if let Some(stop) = intent.stop_price {
        text.push_str(&format!(" stop {}", price_text(stop)));
    }
    if let Some(limit) = intent.limit_price {
        let word = if intent.stop_price.is_some() {
            " limit "
        } else {
            " "
        };
        text.push_str(word);
        text.push_str(&price_text(limit));
    }
    text.push_str(&format!(" {} on {}", intent.time_in_force, intent.account));
    text
}

#[cfg(test)]
mod tests {
    /// An exact decimal from its text (the app has no decimal macro).
    fn d(text: &str) -> rust_decimal::Decimal {
        text.parse().expect("a decimal")
    }

    use super::*;

    fn limit_buy() -> Form {
        Form {
            account: Some("DU123".into()),
            instrument: Some(InstrumentSpec::stock("AAPL")),
            quantity: "10".into(),
            limit: "187.5".into(),
            ..Form::default()
        }
    }

    fn fields(form: &Form) -> Vec<Field> {
        form.problems().into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_limit_order_becomes_an_exact_intent_from_the_ticket() {
        let intent = limit_buy().intent().unwrap();
        assert_eq!(intent.origin, Origin::Ui);
        assert_eq!(intent.account, "DU123");
        assert_eq!(intent.instrument, InstrumentSpec::stock("AAPL"));
        assert_eq!(intent.side, OrderSide::Buy);
        assert_eq!(intent.quantity, d("10"));
        assert_eq!(intent.order_type, OrderType::Limit);
        assert_eq!(intent.limit_price, Some(d("187.5")));
        assert_eq!(intent.limit_price.unwrap().to_string(), "187.5");
        assert_eq!(intent.stop_price, None);
        assert_eq!(intent.time_in_force, TimeInForce::Day);
        assert_eq!(intent.parent_ref, None);
    }

    #[test]
    fn decimals_are_exact_and_trimmed() {
        assert_eq!(positive_decimal(" 187.50 ", "price").unwrap(), d("187.5"));
        assert_eq!(positive_decimal("0.1", "price").unwrap() * d("3"), d("0.3"));
        assert_eq!(positive_decimal("1e2", "quantity").unwrap(), d("100"));
    }

    #[test]
    fn bad_quantities_are_refused_at_the_field() {
        for (typed, reason) in [
            ("", "Enter a quantity"),
            ("0", "The quantity must be more than 0"),
            ("-5", "The quantity must be more than 0"),
            ("ten", "“ten” is not a number"),
        ] {
            let form = Form {
                quantity: typed.into(),
                ..limit_buy()
            };
            let problems = form.problems();
            assert_eq!(problems.len(), 1, "{typed}: {problems:?}");
            assert_eq!(problems[0].field, Field::Quantity);
            assert_eq!(problems[0].reason, reason);
            assert!(form.intent().is_err());
        }
    }

    #[test]
    fn prices_are_needed_only_by_the_types_that_use_them() {
        let no_prices = Form {
            limit: String::new(),
            stop: String::new(),
            ..limit_buy()
        };
        let of = |order_type| Form {
            order_type,
            ..no_prices.clone()
        };
        assert_eq!(fields(&of(OrderType::Market)), vec![]);
        assert_eq!(fields(&of(OrderType::Limit)), vec![Field::Limit]);
        assert_eq!(fields(&of(OrderType::Stop)), vec![Field::Stop]);
        assert_eq!(
            fields(&of(OrderType::StopLimit)),
            vec![Field::Limit, Field::Stop]
        );
        // A market order ignores a price left in a hidden field.
        let market = Form {
            order_type: OrderType::Market,
            ..limit_buy()
        }
        .intent()
        .unwrap();
        assert_eq!(market.limit_price, None);
        let stop_limit = Form {
            order_type: OrderType::StopLimit,
            stop: "186".into(),
            ..limit_buy()
        }
        .intent()
        .unwrap();
        assert_eq!(stop_limit.stop_price, Some(d("186")));
        assert_eq!(stop_limit.limit_price, Some(d("187.5")));
    }

    #[test]
    fn without_account_or_instrument_there_is_no_order() {
        let form = Form {
            account: None,
            instrument: None,
            ..limit_buy()
        };
        assert_eq!(fields(&form), vec![Field::Account, Field::Instrument]);
    }

    #[test]
    fn symbols_are_read_as_ib_spells_them() {
        assert_eq!(stock_symbol(" aapl "), Some("AAPL".into()));
        assert_eq!(stock_symbol("brk b"), Some("BRK B".into()));
        assert_eq!(stock_symbol(""), None);
        assert_eq!(stock_symbol("AA;PL"), None);
    }

    #[test]
    fn the_confirmation_says_what_will_be_sent() {
        let intent = limit_buy().intent().unwrap();
        assert_eq!(summary(&intent), "Buy 10 AAPL LMT 187.50 DAY on DU123");
        let sell = Form {
            side: OrderSide::Sell,
            order_type: OrderType::StopLimit,
            stop: "186".into(),
            limit: "185.955".into(),
            tif: TimeInForce::Gtc,
            ..limit_buy()
        }
        .intent()
        .unwrap();
        assert_eq!(
            summary(&sell),
            "Sell 10 AAPL STP LMT stop 186.00 limit 185.955 GTC on DU123"
        );
        let market = Form {
            order_type: OrderType::Market,
            quantity: "2.50".into(),
            ..limit_buy()
        }
        .intent()
        .unwrap();
        assert_eq!(summary(&market), "Buy 2.5 AAPL MKT DAY on DU123");
    }
}

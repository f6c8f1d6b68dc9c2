//! What anyone who wants to trade asks for: an order intent, attributed to its origin, and
//! TWS's own what-if answer for one. Shared by the risk gate and the session, so neither
//! depends on the other for them.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::{InstrumentSpec, OrderSide, OrderType, TimeInForce};

/// Who wants the order. Every intent is attributed, and the audit log says who.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The order ticket.
    Ui,
    /// A Rhai strategy, by script name.
    Script(String),
    /// A native plugin instance.
    Plugin { id: String, instance: String },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Ui => f.write_str("ui"),
            Origin::Script(name) => write!(f, "script:{name}"),
            Origin::Plugin { id, instance } => write!(f, "plugin:{id}/{instance}"),
        }
    }
}

impl std::str::FromStr for Origin {
    type Err = crate::domain::UnknownValue;

    /// Reads back what `Display` wrote (the `orders.origin` column).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || crate::domain::UnknownValue {
            what: "order origin",
            value: s.to_owned(),
        };
        if s == "ui" {
            return Ok(Origin::Ui);
        }
        if let Some(name) = s.strip_prefix("script:") {
            return Ok(Origin::Script(name.to_owned()));
        }
        let (id, instance) = s
            .strip_prefix("plugin:")
            .and_then(|p| p.split_once('/'))
            .ok_or_else(unknown)?;
        Ok(Origin::Plugin {
            id: id.to_owned(),
            instance: instance.to_owned(),
        })
    }
}

/// A request to place one order. Nothing reaches TWS except through the risk gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderIntent {
    pub origin: Origin,
    pub account: String,
    pub instrument: InstrumentSpec,
    pub side: OrderSide,
    /// Always positive; the side gives the direction.
    pub quantity: Decimal,
    pub order_type: OrderType,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub time_in_force: TimeInForce,
    /// For bracket children: the `order_ref` of the parent.
    pub parent_ref: Option<String>,
}

impl OrderIntent {
    /// The intent a stored order stands for (to modify it, or to resend it after a reconnect).
    pub fn from_order(
        order: &crate::domain::Order,
        instrument: InstrumentSpec,
        origin: Origin,
    ) -> Self {
        Self {
            origin,
            account: order.account.clone(),
            instrument,
            side: order.side,
            quantity: order.quantity,
            order_type: order.order_type,
            limit_price: order.limit_price,
            stop_price: order.stop_price,
            time_in_force: order.time_in_force,
            parent_ref: order.parent_ref.clone(),
        }
    }

    /// The position change this order makes if it fills completely.
    pub fn signed_quantity(&self) -> Decimal {
        match self.side {
            OrderSide::Buy => self.quantity,
            OrderSide::Sell => -self.quantity,
        }
    }

    /// The price that best describes what the order may trade at: the limit, else the stop,
    /// else (market orders) none.
    pub fn reference_price(&self) -> Option<Decimal> {
        self.limit_price.or(self.stop_price)
    }

    /// The intent as the audit log stores it: decimals as strings, nothing lost.
    pub fn audit_details(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Details<'a> {
            account: &'a str,
            symbol: &'a str,
            sec_type: &'a str,
            con_id: Option<i64>,
            expiry: Option<String>,
            strike: Option<String>,
            right: Option<&'a str>,
            side: &'a str,
            quantity: String,
            order_type: &'a str,
            limit_price: Option<String>,
            stop_price: Option<String>,
            time_in_force: &'a str,
            parent_ref: Option<&'a str>,
        }
        let spec = &self.instrument;
        serde_json::to_value(Details {
            account: &self.account,
            symbol: &spec.symbol,
            sec_type: spec.sec_type.as_str(),
            con_id: spec.con_id,
            expiry: spec.expiry.map(|d| d.to_string()),
            strike: spec.strike.map(|d| d.to_string()),
            right: spec.right.map(|r| r.as_str()),
            side: self.side.as_str(),
            quantity: self.quantity.to_string(),
            order_type: self.order_type.as_str(),
            limit_price: self.limit_price.map(|d| d.to_string()),
            stop_price: self.stop_price.map(|d| d.to_string()),
            time_in_force: self.time_in_force.as_str(),
            parent_ref: self.parent_ref.as_deref(),
        })
        .unwrap_or(serde_json::Value::Null)
    }
}

/// TWS's own answer to a what-if order: the account's margin with the order, as TWS computes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwsWhatIf {
    pub initial_margin_after: Option<Decimal>,
    pub maintenance_margin_after: Option<Decimal>,
    pub equity_with_loan_after: Option<Decimal>,
    pub commission: Option<Decimal>,
}

#[cfg(test)]
mod tests {
    use super::Origin;

    #[test]
    fn origins_read_back_what_they_display() {
        for origin in [
            Origin::Ui,
            Origin::Script("sma cross".into()),
            Origin::Plugin {
                id: "org.example.grid".into(),
                instance: "2".into(),
            },
        ] {
            assert_eq!(origin.to_string().parse::<Origin>().unwrap(), origin);
        }
        assert!("robot".parse::<Origin>().is_err());
        assert!("plugin:no-instance".parse::<Origin>().is_err());
    }
}

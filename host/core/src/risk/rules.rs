//! The risk rules, one function each: the intent and what is known now in, a denial out.

use std::fmt;

use rust_decimal::Decimal;

use super::intent::OrderIntent;
use super::limits::RiskLimits;

/// What the gate knows about the market and the account when it decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskContext {
    /// Last traded price (or mid) of the instrument; `None` when there is no quote.
    pub last_price: Option<Decimal>,
    /// Current signed position in the instrument.
    pub position: Decimal,
    /// Today's profit and loss of the account (realised + unrealised); negative is a loss.
    pub daily_pnl: Decimal,
    /// Whether the origin (script or plugin) was granted trading; the UI always is.
    pub origin_may_trade: bool,
    /// The margin the account would need after the order, and what it has.
    pub margin: Option<MarginImpact>,
}

/// Initial margin after the order (from `tickwork-margin` what-if) against equity with loan.
/// TWS's own what-if, when connected, is kept beside ours for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginImpact {
    pub initial_after: Decimal,
    pub equity_with_loan: Decimal,
    pub tws_initial_after: Option<Decimal>,
}

/// Which rule denied an order; stable names, used in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiskRule {
    NotArmed,
    KillSwitch,
    OriginNotGranted,
    InvalidOrder,
    MaxQuantity,
    MaxNotional,
    PriceCollar,
    PositionLimit,
    OrderRate,
    DailyLoss,
    Margin,
}

impl RiskRule {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskRule::NotArmed => "not_armed",
            RiskRule::KillSwitch => "kill_switch",
            RiskRule::OriginNotGranted => "origin_not_granted",
            RiskRule::InvalidOrder => "invalid_order",
            RiskRule::MaxQuantity => "max_quantity",
            RiskRule::MaxNotional => "max_notional",
            RiskRule::PriceCollar => "price_collar",
            RiskRule::PositionLimit => "position_limit",
            RiskRule::OrderRate => "order_rate",
            RiskRule::DailyLoss => "daily_loss",
            RiskRule::Margin => "margin",
        }
    }
}

/// Why an order was refused, for the user and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub rule: RiskRule,
    pub reason: String,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule.as_str(), self.reason)
    }
}

fn deny(rule: RiskRule, reason: String) -> Result<(), Denial> {
    Err(Denial { rule, reason })
}

pub fn check_well_formed(intent: &OrderIntent) -> Result<(), Denial> {
    use crate::domain::OrderType::*;
    if intent.quantity <= Decimal::ZERO {
        return deny(
            RiskRule::InvalidOrder,
            format!("quantity {} is not positive", intent.quantity),
        );
    }
    let (needs_limit, needs_stop) = match intent.order_type {
        Market => (false, false),
        Limit => (true, false),
        Stop => (false, true),
        StopLimit => (true, true),
    };
    if needs_limit != intent.limit_price.is_some() || needs_stop != intent.stop_price.is_some() {
        return deny(
            RiskRule::InvalidOrder,
            format!(
                "a {} order {} a limit price and {} a stop price",
                intent.order_type,
                if needs_limit { "needs" } else { "takes no" },
                if needs_stop { "needs" } else { "takes no" }
            ),
        );
    }
    if let Some(price) = intent.limit_price.or(intent.stop_price)
        && price <= Decimal::ZERO
    {
        return deny(
            RiskRule::InvalidOrder,
            format!("price {price} is not positive"),
        );
    }
    Ok(())
}

pub fn check_origin(ctx: &RiskContext, intent: &OrderIntent) -> Result<(), Denial> {
    if ctx.origin_may_trade {
        return Ok(());
    }
    deny(
        RiskRule::OriginNotGranted,
        format!("{} has not been granted trading", intent.origin),
    )
}

pub fn check_max_quantity(limits: &RiskLimits, intent: &OrderIntent) -> Result<(), Denial> {
    if intent.quantity <= limits.max_quantity {
        return Ok(());
    }
    deny(
        RiskRule::MaxQuantity,
        format!(
            "quantity {} exceeds the limit of {}",
            intent.quantity, limits.max_quantity
        ),
    )
}

pub fn check_max_notional(
    limits: &RiskLimits,
    ctx: &RiskContext,
    intent: &OrderIntent,
) -> Result<(), Denial> {
    let Some(price) = intent.reference_price().or(ctx.last_price) else {
        return deny(
            RiskRule::MaxNotional,
            "no price to value the order at (no limit and no quote)".into(),
        );
    };
    let notional = intent.quantity * price * intent.instrument.multiplier;
    if notional <= limits.max_notional {
        return Ok(());
    }
    deny(
        RiskRule::MaxNotional,
        format!(
            "order value {notional} exceeds the limit of {}",
            limits.max_notional
        ),
    )
}

pub fn check_price_collar(
    limits: &RiskLimits,
    ctx: &RiskContext,
    intent: &OrderIntent,
) -> Result<(), Denial> {
    let prices: Vec<Decimal> = [intent.limit_price, intent.stop_price]
        .into_iter()
        .flatten()
        .collect();
    if prices.is_empty() {
        return Ok(());
    }
    let Some(last) = ctx.last_price.filter(|p| *p > Decimal::ZERO) else {
        return deny(
            RiskRule::PriceCollar,
            "no last quote to check the price against".into(),
        );
    };
    for price in prices {
        let distance = (price - last).abs() / last;
        if distance > limits.price_collar {
            return deny(
                RiskRule::PriceCollar,
                format!(
                    "price {price} is {}% from the last quote {last}; the collar is {}%",
                    (distance * Decimal::ONE_HUNDRED).round_dp(2),
                    (limits.price_collar * Decimal::ONE_HUNDRED).normalize()
                ),
            );
        }
    }
    Ok(())
}

pub fn check_position_limit(
    limits: &RiskLimits,
    ctx: &RiskContext,
    intent: &OrderIntent,
) -> Result<(), Denial> {
    let after = ctx.position + intent.signed_quantity();
    // An order that brings the position closer to flat is always allowed.
    if after.abs() <= limits.max_position || after.abs() < ctx.position.abs() {
        return Ok(());
    }
    deny(
        RiskRule::PositionLimit,
        format!(
            "position would be {after}; the limit is ±{}",
            limits.max_position
        ),
    )
}

/// `sent_last_minute`: orders of this account the gate let through in the last 60 seconds.
pub fn check_order_rate(limits: &RiskLimits, sent_last_minute: usize) -> Result<(), Denial> {
    if sent_last_minute < limits.max_orders_per_minute as usize {
        return Ok(());
    }
    deny(
        RiskRule::OrderRate,
        format!(
            "{sent_last_minute} orders in the last minute; the limit is {}",
            limits.max_orders_per_minute
        ),
    )
}

pub fn check_daily_loss(
    limits: &RiskLimits,
    ctx: &RiskContext,
    intent: &OrderIntent,
) -> Result<(), Denial> {
    let reduces = (ctx.position + intent.signed_quantity()).abs() < ctx.position.abs();
    if -ctx.daily_pnl < limits.max_daily_loss || reduces {
        return Ok(());
    }
    deny(
        RiskRule::DailyLoss,
        format!(
            "today's loss {} has reached the limit of {}; only reducing orders pass",
            -ctx.daily_pnl, limits.max_daily_loss
        ),
    )
}

pub fn check_margin(ctx: &RiskContext, intent: &OrderIntent) -> Result<(), Denial> {
    let reduces = (ctx.position + intent.signed_quantity()).abs() < ctx.position.abs();
    match &ctx.margin {
        _ if reduces => Ok(()),
        None => deny(
            RiskRule::Margin,
            "margin impact unknown: account values are not synchronised yet".into(),
        ),
        Some(m) if m.initial_after <= m.equity_with_loan => Ok(()),
        Some(m) => deny(
            RiskRule::Margin,
            format!(
                "initial margin after the order {} exceeds equity with loan {}",
                m.initial_after, m.equity_with_loan
            ),
        ),
    }
}

//! The risk rules, one function each: the intent and what is known now in, a denial out.

use std::fmt;
use std::time::Duration;

use rust_decimal::Decimal;

use super::limits::RiskLimits;
use crate::domain::OrderIntent;

/// What the gate knows about the market and the account when it decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskContext {
    /// Last traded price (or mid) of the instrument; `None` when there is no quote.
    pub last_price: Option<Decimal>,
    /// How old that quote is; `None` when unknown (treated as too old).
    pub quote_age: Option<Duration>,
    /// The quote is delayed market data (TWS sends delayed ticks without a subscription).
    pub quote_delayed: bool,
    /// Current signed position in the instrument.
    pub position: Decimal,
    /// Today's profit and loss of the account in its base currency: realised today plus the
    /// change of unrealised since the start of the day (see [`super::daily_pnl`]); negative is
    /// a loss. `None` when it cannot be known (no account values yet, a currency without an
    /// exchange rate): then only reducing orders pass.
    pub daily_pnl: Option<Decimal>,
    /// Whether the origin (script or plugin) was granted trading; the UI always is.
    pub origin_may_trade: bool,
    /// The margin the account would need after the order, and what it has.
    pub margin: Option<MarginImpact>,
}

/// Initial margin after the order (from `tickwork-margin` what-if) against equity with loan.
/// TWS's own what-if, when connected, takes part: either one saying the order breaches the
/// account's margin denies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginImpact {
    /// Ours, the user's custom margin rules included.
    pub initial_after: Decimal,
    /// What the custom margin rules did to it, one line (named in a denial); `None` when no
    /// rule applies.
    pub custom_rules: Option<String>,
    pub equity_with_loan: Decimal,
    /// TWS's what-if: initial margin and equity with loan after the order, when it answered.
    pub tws_initial_after: Option<Decimal>,
    pub tws_equity_with_loan_after: Option<Decimal>,
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
    StaleQuote,
    /// A decision the router made on its own (a resend) had no context to decide on.
    NoContext,
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
            RiskRule::StaleQuote => "stale_quote",
            RiskRule::NoContext => "no_context",
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
    let price = match intent.reference_price() {
        Some(price) => price,
        None => fresh_price(limits, ctx, "value the order")?,
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
    let last = fresh_price(limits, ctx, "check the price against")?;
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
    // An order that only brings the position closer to flat is always allowed; a flip's
    // opening part is not.
    if after.abs() <= limits.max_position || opening_quantity(ctx, intent).is_zero() {
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
    let opening = opening_quantity(ctx, intent);
    if opening.is_zero() {
        return Ok(());
    }
    let Some(pnl) = ctx.daily_pnl else {
        return deny(
            RiskRule::DailyLoss,
            format!("today's P&L is unknown; only reducing orders pass (this one opens {opening})"),
        );
    };
    if -pnl < limits.max_daily_loss {
        return Ok(());
    }
    deny(
        RiskRule::DailyLoss,
        format!(
            "today's loss {} has reached the limit of {}; only reducing orders pass \
             (this one opens {opening})",
            -pnl, limits.max_daily_loss
        ),
    )
}

/// The part of an order that opens or increases a position. A flip (long 400, sell 500) is a
/// close of 400 and an opening of 100: only the 100 faces the opening rules.
pub fn opening_quantity(ctx: &RiskContext, intent: &OrderIntent) -> Decimal {
    let signed = intent.signed_quantity();
    let before = ctx.position;
    if before.is_zero() || before.is_sign_positive() == signed.is_sign_positive() {
        return signed.abs();
    }
    let after = before + signed;
    if after.is_zero() || after.is_sign_positive() == before.is_sign_positive() {
        Decimal::ZERO
    } else {
        after.abs()
    }
}

/// The quote's price, if it is fresh enough to base a price rule on.
fn fresh_price(limits: &RiskLimits, ctx: &RiskContext, to: &str) -> Result<Decimal, Denial> {
    let Some(last) = ctx.last_price.filter(|p| *p > Decimal::ZERO) else {
        return Err(Denial {
            rule: RiskRule::StaleQuote,
            reason: format!("no quote to {to}"),
        });
    };
    if ctx.quote_delayed && !limits.allow_delayed_quotes {
        return Err(Denial {
            rule: RiskRule::StaleQuote,
            reason: format!("the quote is delayed market data; a live quote is needed to {to}"),
        });
    }
    let max_age = limits.max_quote_age();
    match ctx.quote_age {
        Some(age) if age <= max_age => Ok(last),
        Some(age) => Err(Denial {
            rule: RiskRule::StaleQuote,
            reason: format!(
                "the quote is {:.1} s old; prices older than {} s cannot {to}",
                age.as_secs_f64(),
                max_age.as_secs_f64()
            ),
        }),
        None => Err(Denial {
            rule: RiskRule::StaleQuote,
            reason: format!("the quote's age is unknown; it cannot {to}"),
        }),
    }
}

pub fn check_margin(
    limits: &RiskLimits,
    ctx: &RiskContext,
    intent: &OrderIntent,
) -> Result<(), Denial> {
    if opening_quantity(ctx, intent).is_zero() {
        return Ok(());
    }
    // Our figure was computed at a price: a market order's is the quote's, which must be fresh.
    if intent.reference_price().is_none() {
        fresh_price(limits, ctx, "compute the margin")?;
    }
    let Some(m) = &ctx.margin else {
        return deny(
            RiskRule::Margin,
            "margin impact unknown: the account's values or the price of one of its holdings \
             are not known yet"
                .into(),
        );
    };
    if m.initial_after > m.equity_with_loan {
        return deny(
            RiskRule::Margin,
            format!(
                "initial margin after the order {} exceeds equity with loan {}{}",
                m.initial_after,
                m.equity_with_loan,
                m.custom_rules
                    .as_ref()
                    .map(|r| format!(" (custom margin rules: {r})"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(tws) = m.tws_initial_after {
        let equity = m.tws_equity_with_loan_after.unwrap_or(m.equity_with_loan);
        if tws > equity {
            return deny(
                RiskRule::Margin,
                format!(
                    "TWS's what-if: initial margin after the order {tws} exceeds equity with \
                     loan {equity}"
                ),
            );
        }
    }
    Ok(())
}

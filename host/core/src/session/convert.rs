//! The wire boundary: `ibapi` types (f64 prices, string dates) to and from our domain types
//! (Decimal, chrono). Every conversion from the wire happens here, once.

use chrono::{DateTime, NaiveDate, Utc};
use ibapi::contracts::{
    Contract, Currency, Exchange, OptionRight as IbRight, SecurityType, Symbol,
};
use rust_decimal::Decimal;

use crate::domain::{InstrumentSpec, OptionRight, SecType};

/// A wire value that cannot be represented in the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct WireError {
    pub field: &'static str,
    pub message: String,
}

fn wire_error(field: &'static str, message: impl Into<String>) -> WireError {
    WireError {
        field,
        message: message.into(),
    }
}

/// A price or size from the wire. Non-finite values (IB's "unset") are `None`. The shortest
/// decimal that round-trips the `f64` is used, so `187.2` becomes exactly 187.2.
pub fn decimal(value: f64) -> Option<Decimal> {
    if !value.is_finite() || value.abs() >= 1e300 {
        return None;
    }
    Decimal::from_str_exact(&format!("{value}"))
        .ok()
        .or_else(|| Decimal::from_f64_retain(value))
}

/// The other direction, only for sending to TWS.
pub fn wire_f64(value: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    value.to_f64().unwrap_or(f64::NAN)
}

pub fn sec_type_to_wire(sec_type: SecType) -> SecurityType {
    match sec_type {
        SecType::Stock | SecType::Etf => SecurityType::Stock,
        SecType::Index => SecurityType::Index,
        SecType::Option => SecurityType::Option,
        SecType::Future => SecurityType::Future,
        SecType::FutureOption => SecurityType::FuturesOption,
        SecType::Cash => SecurityType::ForexPair,
    }
}

pub fn sec_type_from_wire(sec_type: &SecurityType) -> Result<SecType, WireError> {
    Ok(match sec_type {
        SecurityType::Stock => SecType::Stock,
        SecurityType::Index => SecType::Index,
        SecurityType::Option => SecType::Option,
        SecurityType::Future => SecType::Future,
        SecurityType::FuturesOption => SecType::FutureOption,
        SecurityType::ForexPair => SecType::Cash,
        other => return Err(wire_error("secType", format!("{other:?} is not supported"))),
    })
}

/// Our instrument as the contract TWS expects in a request.
pub fn contract_for(spec: &InstrumentSpec) -> Contract {
    Contract {
        contract_id: spec
            .con_id
            .and_then(|id| i32::try_from(id).ok())
            .unwrap_or(0),
        symbol: Symbol(spec.symbol.clone()),
        security_type: sec_type_to_wire(spec.sec_type),
        last_trade_date_or_contract_month: spec
            .expiry
            .map(|d| d.format("%Y%m%d").to_string())
            .unwrap_or_default(),
        strike: spec.strike.map(wire_f64).unwrap_or(0.0),
        right: spec.right.map(|r| match r {
            OptionRight::Call => IbRight::Call,
            OptionRight::Put => IbRight::Put,
        }),
        multiplier: if spec.multiplier == Decimal::ONE {
            String::new()
        } else {
            spec.multiplier.normalize().to_string()
        },
        exchange: Exchange(spec.exchange.clone()),
        currency: Currency(spec.currency.clone()),
        local_symbol: spec.local_symbol.clone().unwrap_or_default(),
        primary_exchange: Exchange(spec.primary_exchange.clone().unwrap_or_default()),
        trading_class: spec.trading_class.clone().unwrap_or_default(),
        ..Contract::default()
    }
}

/// A contract TWS reported (in a position, order or execution) as our instrument.
pub fn spec_from_contract(contract: &Contract) -> Result<InstrumentSpec, WireError> {
    let sec_type = sec_type_from_wire(&contract.security_type)?;
    let expiry = match contract.last_trade_date_or_contract_month.trim() {
        "" => None,
        text => {
            let day = if text.len() == 6 {
                format!("{text}01")
            } else {
                text.chars().take(8).collect()
            };
            Some(NaiveDate::parse_from_str(&day, "%Y%m%d").map_err(|_| {
                wire_error(
                    "lastTradeDateOrContractMonth",
                    format!("`{text}` is not YYYYMMDD"),
                )
            })?)
        }
    };
    let multiplier = match contract.multiplier.trim() {
        "" => Decimal::ONE,
        text => text
            .parse()
            .map_err(|_| wire_error("multiplier", format!("`{text}` is not a number")))?,
    };
    let has_strike = matches!(sec_type, SecType::Option | SecType::FutureOption);
    let exchange = if contract.exchange.0.is_empty() {
        "SMART".to_owned()
    } else {
        contract.exchange.0.clone()
    };
    Ok(InstrumentSpec {
        con_id: (contract.contract_id != 0).then_some(i64::from(contract.contract_id)),
        symbol: contract.symbol.0.clone(),
        sec_type,
        exchange,
        primary_exchange: Some(contract.primary_exchange.0.clone()).filter(|s| !s.is_empty()),
        currency: if contract.currency.0.is_empty() {
            "USD".into()
        } else {
            contract.currency.0.clone()
        },
        expiry,
        strike: if has_strike {
            decimal(contract.strike)
        } else {
            None
        },
        right: contract.right.map(|r| match r {
            IbRight::Call => OptionRight::Call,
            IbRight::Put => OptionRight::Put,
        }),
        multiplier,
        local_symbol: Some(contract.local_symbol.clone()).filter(|s| !s.is_empty()),
        trading_class: Some(contract.trading_class.clone()).filter(|s| !s.is_empty()),
        description: None,
    })
}

/// Search results (TWS's symbol samples) as specs: contracts of a kind we do not handle are
/// left out, and each contract appears once (by contract id, else by its terms).
pub fn specs_from_descriptions<'a>(
    contracts: impl IntoIterator<Item = &'a Contract>,
) -> Vec<InstrumentSpec> {
    let mut specs: Vec<InstrumentSpec> = Vec::new();
    for contract in contracts {
        let Ok(mut spec) = spec_from_contract(contract) else {
            continue;
        };
        spec.description = Some(contract.description.trim().to_owned()).filter(|d| !d.is_empty());
        let duplicate = specs.iter().any(|known| match (known.con_id, spec.con_id) {
            (Some(a), Some(b)) => a == b,
            _ => {
                (
                    &known.symbol,
                    known.sec_type,
                    &known.currency,
                    known.expiry,
                    known.strike,
                    known.right,
                ) == (
                    &spec.symbol,
                    spec.sec_type,
                    &spec.currency,
                    spec.expiry,
                    spec.strike,
                    spec.right,
                )
            }
        });
        if !duplicate {
            specs.push(spec);
        }
    }
    specs
}

/// TWS times: `YYYYMMDD HH:MM:SS <zone>` (the zone may contain spaces), `YYYYMMDD-HH:MM:SS`
/// (UTC), or epoch seconds.
pub fn tws_time(text: &str) -> Result<DateTime<Utc>, WireError> {
    let text = text.trim();
    let bad = || wire_error("time", format!("`{text}` is not a TWS time"));
    if let Ok(seconds) = text.parse::<i64>() {
        return DateTime::from_timestamp(seconds, 0).ok_or_else(bad);
    }
    if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text, "%Y%m%d-%H:%M:%S") {
        return Ok(naive.and_utc());
    }
    let (date_time, zone) = match text.get(..17) {
        Some(head) => (head, text[17..].trim()),
        None => return Err(bad()),
    };
    let naive =
        chrono::NaiveDateTime::parse_from_str(date_time, "%Y%m%d %H:%M:%S").map_err(|_| bad())?;
    if zone.is_empty() || zone.eq_ignore_ascii_case("UTC") || zone.eq_ignore_ascii_case("GMT") {
        return Ok(naive.and_utc());
    }
    let tz = time_tz::timezones::get_by_name(zone)
        .ok_or_else(|| wire_error("time", format!("unknown time zone `{zone}` in `{text}`")))?;
    use chrono::{Datelike, Timelike};
    let month = time::Month::try_from(naive.month() as u8).map_err(|_| bad())?;
    let date = time::Date::from_calendar_date(naive.year(), month, naive.day() as u8)
        .map_err(|_| bad())?;
    let clock = time::Time::from_hms(
        naive.hour() as u8,
        naive.minute() as u8,
        naive.second() as u8,
    )
    .map_err(|_| bad())?;
    let local = time::PrimitiveDateTime::new(date, clock);
    use time_tz::PrimitiveDateTimeExt;
    let offset = local.assume_timezone(tz).take_first().ok_or_else(bad)?;
    DateTime::from_timestamp(offset.unix_timestamp(), 0).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn wire_prices_become_exact_decimals() {
        assert_eq!(decimal(187.2), Some(dec!(187.2)));
        assert_eq!(decimal(0.1 + 0.2), Some(dec!(0.30000000000000004)));
        assert_eq!(decimal(f64::MAX), None, "IB's unset double");
        assert_eq!(decimal(f64::NAN), None);
        assert_eq!(wire_f64(dec!(187.25)), 187.25);
    }

    #[test]
    fn contract_round_trip_for_an_option() {
        let spec = InstrumentSpec {
            con_id: Some(123456),
            sec_type: SecType::Option,
            expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
            strike: Some(dec!(190)),
            right: Some(OptionRight::Call),
            multiplier: dec!(100),
            ..InstrumentSpec::stock("AAPL")
        };
        let back = spec_from_contract(&contract_for(&spec)).unwrap();
        assert_eq!(back, spec);
        let stock = InstrumentSpec::stock("MSFT");
        assert_eq!(spec_from_contract(&contract_for(&stock)).unwrap(), stock);
    }

    #[test]
    fn bad_contract_fields_are_named() {
        let mut contract = contract_for(&InstrumentSpec::stock("X"));
        contract.multiplier = "abc".into();
        assert_eq!(
            spec_from_contract(&contract).unwrap_err().field,
            "multiplier"
        );
    }

    #[test]
    fn search_results_are_deduplicated_and_unknown_kinds_dropped() {
        let mut aapl = contract_for(&InstrumentSpec::stock("AAPL"));
        aapl.contract_id = 265598;
        aapl.exchange = Exchange::from("");
        aapl.description = "APPLE INC".into();
        let mut bond = contract_for(&InstrumentSpec::stock("T"));
        bond.security_type = SecurityType::Bond;
        let unkeyed = contract_for(&InstrumentSpec::stock("AAL"));
        let specs = specs_from_descriptions([&aapl, &bond, &aapl, &unkeyed, &unkeyed]);
        let symbols: Vec<&str> = specs.iter().map(|s| s.symbol.as_str()).collect();
        assert_eq!(symbols, ["AAPL", "AAL"]);
        assert_eq!(specs[0].con_id, Some(265598));
        assert_eq!(specs[0].exchange, "SMART");
        assert_eq!(specs[0].description.as_deref(), Some("APPLE INC"));
    }

    #[test]
    fn tws_times_in_every_spelling() {
        let utc = Utc.with_ymd_and_hms(2026, 8, 25, 18, 11, 30).unwrap();
        assert_eq!(tws_time("20260825 14:11:30 US/Eastern").unwrap(), utc);
        assert_eq!(tws_time("20260825 18:11:30 UTC").unwrap(), utc);
        assert_eq!(tws_time("20260825-18:11:30").unwrap(), utc);
        assert_eq!(tws_time(&utc.timestamp().to_string()).unwrap(), utc);
        assert_eq!(
            tws_time("20260825 14:11:30 Mars/Olympus")
                .unwrap_err()
                .message,
            "unknown time zone `Mars/Olympus` in `20260825 14:11:30 Mars/Olympus`"
        );
        assert!(tws_time("yesterday").is_err());
    }
}

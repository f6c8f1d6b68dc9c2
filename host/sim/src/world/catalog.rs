//! The simulated instrument catalogue: which stocks, ETFs (one of them leveraged), index, futures
//! and option chains exist, their static terms, and seeded starting prices. Expiries follow the calendar from the
//! simulator's start date (third Fridays; quarterly for ES/NQ, monthly for CL and options).

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use super::instruments::{Instrument, SecType};
use super::rng::keyed;

/// (symbol, long name, primary exchange, industry, stock type, price, vol)
const EQUITIES: &[(&str, &str, &str, &str, &str, f64, f64)] = &[
    (
        "AAPL",
        "APPLE INC",
        "NASDAQ",
        "Technology",
        "COMMON",
        190.0,
        0.25,
    ),
    (
        "MSFT",
        "MICROSOFT CORP",
        "NASDAQ",
        "Technology",
        "COMMON",
        410.0,
        0.24,
    ),
    (
        "AMZN",
        "AMAZON.COM INC",
        "NASDAQ",
        "Consumer, Cyclical",
        "COMMON",
        180.0,
        0.32,
    ),
    (
        "NVDA",
        "NVIDIA CORP",
        "NASDAQ",
        "Technology",
        "COMMON",
        120.0,
        0.50,
    ),
    (
        "TSLA",
        "TESLA INC",
        "NASDAQ",
        "Consumer, Cyclical",
        "COMMON",
        240.0,
        0.55,
    ),
    (
        "JPM",
        "JPMORGAN CHASE & CO",
        "NYSE",
        "Financial",
        "COMMON",
        200.0,
        0.22,
    ),
    (
        "XOM",
        "EXXON MOBIL CORP",
        "NYSE",
        "Energy",
        "COMMON",
        115.0,
        0.24,
    ),
    (
        "SPY",
        "SPDR S&P 500 ETF TRUST",
        "ARCA",
        "Funds",
        "ETF",
        560.0,
        0.15,
    ),
    (
        "QQQ",
        "INVESCO QQQ TRUST SERIES 1",
        "NASDAQ",
        "Funds",
        "ETF",
        480.0,
        0.20,
    ),
    (
        "IWM",
        "ISHARES RUSSELL 2000 ETF",
        "ARCA",
        "Funds",
        "ETF",
        210.0,
        0.22,
    ),
    (
        "TLT",
        "ISHARES 20+ YEAR TREASURY BOND",
        "NASDAQ",
        "Funds",
        "ETF",
        95.0,
        0.15,
    ),
    (
        "TQQQ",
        "PROSHARES ULTRAPRO QQQ",
        "NASDAQ",
        "Funds",
        "ETF",
        75.0,
        0.60,
    ),
];
/// Leveraged funds and their leverage factor: margin percentages are multiplied by it (IB), so the
/// simulator's margin must know it as well as the price.
const LEVERAGED: &[(&str, u32)] = &[("TQQQ", 3)];

/// The leverage factor of a leveraged fund, `None` for ordinary instruments.
pub fn leverage(symbol: &str) -> Option<u32> {
    LEVERAGED
        .iter()
        .find(|(s, _)| *s == symbol)
        .map(|(_, factor)| *factor)
}
/// Equities (and the index) that get option chains.
const OPTIONABLE: &[&str] = &["AAPL", "MSFT", "SPY", "QQQ", "SPX"];
/// (symbol, long name, exchange, multiplier, price, vol, min tick)
const FUTURES: &[(&str, &str, &str, f64, f64, f64, f64)] = &[
    ("ES", "E-mini S&P 500", "CME", 50.0, 5600.0, 0.16, 0.25),
    ("NQ", "E-mini Nasdaq-100", "CME", 20.0, 19800.0, 0.21, 0.25),
    (
        "CL",
        "Light Sweet Crude Oil",
        "NYMEX",
        1000.0,
        75.0,
        0.35,
        0.01,
    ),
];
const MONTH_CODES: &[u8] = b"FGHJKMNQUVXZ";

fn third_friday(year: i32, month: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let offset =
        (7 + Weekday::Fri.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    first + Duration::days(i64::from(offset) + 14)
}

fn next_months(today: NaiveDate, count: usize, step: u32) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let (mut y, mut m) = (today.year(), today.month());
    while out.len() < count {
        let d = third_friday(y, m);
        if d > today && (step == 1 || m % step == 0) {
            out.push(d);
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
    out
}

/// Every instrument for `seed`, with expiries relative to `today`.
pub fn instruments(seed: u64, today: NaiveDate) -> Vec<Instrument> {
    let mut list = Vec::new();
    let jitter = |key: u64, price: f64| {
        let mut r = keyed(&[seed, key]);
        let p = price * (1.0 + (r.unit() - 0.5) * 0.1);
        (p * 100.0).round() / 100.0
    };
    for (i, (sym, name, primary, industry, stype, price, vol)) in EQUITIES.iter().enumerate() {
        list.push(Instrument {
            con_id: 100_001 + i as i32,
            symbol: (*sym).into(),
            sec_type: SecType::Stock,
            expiry: String::new(),
            strike: 0.0,
            right: String::new(),
            multiplier: 0.0,
            exchange: (*primary).into(),
            primary_exchange: (*primary).into(),
            currency: "USD".into(),
            local_symbol: (*sym).into(),
            trading_class: if *stype == "ETF" {
                (*sym).into()
            } else {
                "NMS".into()
            },
            long_name: (*name).into(),
            industry: (*industry).into(),
            stock_type: (*stype).into(),
            min_tick: 0.01,
            under_con_id: 0,
            vol: *vol,
            base_price: jitter(i as u64, *price),
        });
    }
    list.push(Instrument {
        con_id: 150_001,
        symbol: "SPX".into(),
        sec_type: SecType::Index,
        expiry: String::new(),
        strike: 0.0,
        right: String::new(),
        multiplier: 0.0,
        exchange: "CBOE".into(),
        primary_exchange: String::new(),
        currency: "USD".into(),
        local_symbol: "SPX".into(),
        trading_class: "SPX".into(),
        long_name: "S&P 500 Stock Index".into(),
        industry: "Indices".into(),
        stock_type: String::new(),
        min_tick: 0.01,
        under_con_id: 0,
        vol: 0.15,
        base_price: jitter(900, 5600.0),
    });
    let mut fut_id = 200_001;
    let mut fop_parents = Vec::new();
    for (sym, name, exch, mult, price, vol, tick) in FUTURES {
        let step = if *sym == "CL" { 1 } else { 3 };
        for (k, exp) in next_months(today, 3, step).into_iter().enumerate() {
            let code = MONTH_CODES[exp.month0() as usize] as char;
            let inst = Instrument {
                con_id: fut_id,
                symbol: (*sym).into(),
                sec_type: SecType::Future,
                expiry: exp.format("%Y%m%d").to_string(),
                strike: 0.0,
                right: String::new(),
                multiplier: *mult,
                exchange: (*exch).into(),
                primary_exchange: String::new(),
                currency: "USD".into(),
                local_symbol: format!("{sym}{code}{}", exp.year() % 10),
                trading_class: (*sym).into(),
                long_name: (*name).into(),
                industry: String::new(),
                stock_type: String::new(),
                min_tick: *tick,
                under_con_id: 0,
                vol: *vol,
                base_price: jitter(1000 + fut_id as u64, *price * (1.0 + 0.004 * k as f64)),
            };
            if *sym == "ES" && k == 0 {
                fop_parents.push(inst.clone());
            }
            list.push(inst);
            fut_id += 1;
        }
    }
    let mut opt_id = 300_001;
    for sym in OPTIONABLE {
        let Some(under) = list
            .iter()
            .find(|i| i.symbol == *sym && i.sec_type != SecType::Future)
            .cloned()
        else {
            continue;
        };
        let index = under.sec_type == SecType::Index;
        for exp in next_months(today, 3, 1) {
            for strike in strike_ladder(under.base_price, 5) {
                for right in ["C", "P"] {
                    list.push(option(
                        &under,
                        SecType::Option,
                        exp,
                        strike,
                        right,
                        opt_id,
                        index,
                    ));
                    opt_id += 1;
                }
            }
        }
    }
    let mut fop_id = 400_001;
    for under in fop_parents {
        let last = NaiveDate::parse_from_str(&under.expiry, "%Y%m%d").unwrap_or(today);
        for exp in next_months(today, 2, 1).into_iter().filter(|d| *d <= last) {
            for strike in strike_ladder(under.base_price, 5) {
                for right in ["C", "P"] {
                    list.push(option(
                        &under,
                        SecType::FutureOption,
                        exp,
                        strike,
                        right,
                        fop_id,
                        false,
                    ));
                    fop_id += 1;
                }
            }
        }
    }
    list
}

fn strike_ladder(price: f64, each_side: i32) -> Vec<f64> {
    let step = if price > 2000.0 {
        50.0
    } else if price > 300.0 {
        10.0
    } else {
        5.0
    };
    let atm = (price / step).round() * step;
    (-each_side..=each_side)
        .map(|k| atm + f64::from(k) * step)
        .filter(|s| *s > 0.0)
        .collect()
}

fn option(
    under: &Instrument,
    sec_type: SecType,
    exp: NaiveDate,
    strike: f64,
    right: &str,
    con_id: i32,
    index: bool,
) -> Instrument {
    let class = if index {
        "SPXW".to_string()
    } else {
        under.symbol.clone()
    };
    let (multiplier, exchange) = match sec_type {
        SecType::FutureOption => (under.multiplier, under.exchange.clone()),
        _ => (
            100.0,
            if index {
                "CBOE".to_string()
            } else {
                "SMART".to_string()
            },
        ),
    };
    let local_symbol = format!(
        "{:<6}{}{}{:08}",
        class,
        exp.format("%y%m%d"),
        right,
        (strike * 1000.0).round() as i64
    );
    Instrument {
        con_id,
        symbol: under.symbol.clone(),
        sec_type,
        expiry: exp.format("%Y%m%d").to_string(),
        strike,
        right: right.into(),
        multiplier,
        exchange,
        primary_exchange: String::new(),
        currency: "USD".into(),
        local_symbol,
        trading_class: class,
        long_name: under.long_name.clone(),
        industry: under.industry.clone(),
        stock_type: String::new(),
        min_tick: if sec_type == SecType::FutureOption {
            0.05
        } else {
            0.01
        },
        under_con_id: under.con_id,
        vol: under.vol,
        base_price: 0.0,
    }
}

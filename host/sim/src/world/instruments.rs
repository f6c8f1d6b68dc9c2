//! The instrument universe: US stocks and ETFs, the SPX index, equity option chains, ES/NQ/CL
//! futures and ES futures options. Contract ids are stable across seeds (clients may store them);
//! the seed only moves starting prices.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::msg::{ContractSpec, ContractView, DetailsView};

/// Security type of an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecType {
    Stock,
    Index,
    Future,
    Option,
    FutureOption,
}

impl SecType {
    pub fn code(self) -> &'static str {
        match self {
            SecType::Stock => "STK",
            SecType::Index => "IND",
            SecType::Future => "FUT",
            SecType::Option => "OPT",
            SecType::FutureOption => "FOP",
        }
    }

    /// Options are priced from their underlying rather than walked.
    pub fn is_derivative_priced(self) -> bool {
        matches!(self, SecType::Option | SecType::FutureOption)
    }
}

/// One tradable (or, for SPX, quote-only) instrument.
#[derive(Debug, Clone)]
pub struct Instrument {
    pub con_id: i32,
    pub symbol: String,
    pub sec_type: SecType,
    /// YYYYMMDD for derivatives, empty otherwise.
    pub expiry: String,
    pub strike: f64,
    /// "C" or "P" for options.
    pub right: String,
    /// 0 for stocks and the index.
    pub multiplier: f64,
    pub exchange: String,
    pub primary_exchange: String,
    pub currency: String,
    pub local_symbol: String,
    pub trading_class: String,
    pub long_name: String,
    pub industry: String,
    pub stock_type: String,
    pub min_tick: f64,
    /// The instrument this one is priced from (0 if none).
    pub under_con_id: i32,
    /// Annualised volatility used by the random walk and the option model.
    pub vol: f64,
    /// Starting price (underlyings only).
    pub base_price: f64,
}

impl Instrument {
    pub fn view(&self) -> ContractView {
        ContractView {
            con_id: self.con_id,
            symbol: self.symbol.clone(),
            sec_type: self.sec_type.code().into(),
            expiry: self.expiry.clone(),
            strike: self.strike,
            right: self.right.clone(),
            multiplier: self.multiplier,
            exchange: self.exchange.clone(),
            primary_exchange: self.primary_exchange.clone(),
            currency: self.currency.clone(),
            local_symbol: self.local_symbol.clone(),
            trading_class: self.trading_class.clone(),
        }
    }

    /// Contract multiplier for money arithmetic (1 for stocks).
    pub fn point_value(&self) -> f64 {
        if self.multiplier == 0.0 {
            1.0
        } else {
            self.multiplier
        }
    }

    pub fn details(&self, under: Option<&Instrument>) -> DetailsView {
        let mut contract = self.view();
        contract.exchange = if self.sec_type == SecType::Stock || self.sec_type == SecType::Option {
            "SMART".into()
        } else {
            self.exchange.clone()
        };
        let order_types = match self.sec_type {
            SecType::Index => "",
            _ => "LMT,MKT,STP,STP LMT,TRAIL,MOC,LOC",
        };
        DetailsView {
            contract,
            market_name: self.trading_class.clone(),
            min_tick: self.min_tick,
            order_types: order_types.into(),
            valid_exchanges: format!("SMART,{}", self.exchange),
            under_con_id: self.under_con_id,
            long_name: self.long_name.clone(),
            contract_month: self.expiry.get(..6).unwrap_or("").into(),
            industry: self.industry.clone(),
            category: String::new(),
            subcategory: String::new(),
            time_zone_id: "UTC".into(),
            trading_hours: String::new(),
            liquid_hours: String::new(),
            under_symbol: under.map(|u| u.symbol.clone()).unwrap_or_default(),
            under_sec_type: under
                .map(|u| u.sec_type.code().to_string())
                .unwrap_or_default(),
            real_expiration_date: self.expiry.clone(),
            stock_type: self.stock_type.clone(),
        }
    }
}

/// The whole universe, indexed by contract id.
#[derive(Debug, Clone)]
pub struct Universe {
    list: Vec<Instrument>,
    by_con_id: HashMap<i32, usize>,
}

impl Universe {
    /// Builds the universe for `seed` with expiries relative to `today`.
    pub fn build(seed: u64, today: NaiveDate) -> Self {
        let list = super::catalog::instruments(seed, today);
        let by_con_id = list
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.con_id, i))
            .collect();
        Universe { list, by_con_id }
    }

    pub fn all(&self) -> &[Instrument] {
        &self.list
    }

    pub fn get(&self, con_id: i32) -> Option<&Instrument> {
        self.by_con_id.get(&con_id).map(|i| &self.list[*i])
    }

    /// Every instrument matching the fields a client filled in.
    pub fn matches(&self, spec: &ContractSpec) -> Vec<&Instrument> {
        if spec.con_id > 0 {
            return self.get(spec.con_id).into_iter().collect();
        }
        let sec = spec.sec_type.to_ascii_uppercase();
        let right = match spec.right.to_ascii_uppercase().as_str() {
            "CALL" => "C".to_string(),
            "PUT" => "P".to_string(),
            r => r.to_string(),
        };
        self.list
            .iter()
            .filter(|i| {
                let sym_ok = if spec.symbol.is_empty() {
                    !spec.local_symbol.is_empty()
                        && i.local_symbol.eq_ignore_ascii_case(&spec.local_symbol)
                } else {
                    i.symbol.eq_ignore_ascii_case(&spec.symbol)
                        && (spec.local_symbol.is_empty()
                            || i.local_symbol.eq_ignore_ascii_case(&spec.local_symbol))
                };
                sym_ok
                    && (sec.is_empty() || i.sec_type.code() == sec)
                    && (spec.expiry.is_empty() || i.expiry.starts_with(spec.expiry.as_str()))
                    && (spec.strike <= 0.0 || (i.strike - spec.strike).abs() < 1e-6)
                    && (right.is_empty() || i.right == right)
                    && (spec.currency.is_empty() || i.currency.eq_ignore_ascii_case(&spec.currency))
            })
            .collect()
    }

    /// The single instrument a request designates, if exactly one matches.
    pub fn resolve(&self, spec: &ContractSpec) -> Option<&Instrument> {
        let found = self.matches(spec);
        match found.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The instrument an option is priced from, following chains (an FOP's future).
    pub fn underlying(&self, inst: &Instrument) -> Option<&Instrument> {
        (inst.under_con_id != 0)
            .then(|| self.get(inst.under_con_id))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn universe_is_reproducible_and_resolves() {
        let today = NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default();
        let a = Universe::build(7, today);
        let b = Universe::build(7, today);
        assert_eq!(a.all().len(), b.all().len());
        assert!(
            a.all()
                .iter()
                .zip(b.all())
                .all(|(x, y)| x.base_price == y.base_price)
        );
        let spec = ContractSpec {
            symbol: "AAPL".into(),
            sec_type: "STK".into(),
            ..Default::default()
        };
        assert_eq!(a.resolve(&spec).map(|i| i.con_id), Some(100_001));
        let chain = ContractSpec {
            symbol: "AAPL".into(),
            sec_type: "OPT".into(),
            ..Default::default()
        };
        assert!(a.matches(&chain).len() >= 3 * 11 * 2);
        let es = ContractSpec {
            symbol: "ES".into(),
            sec_type: "FUT".into(),
            ..Default::default()
        };
        assert_eq!(a.matches(&es).len(), 3);
        assert!(
            !a.matches(&ContractSpec {
                symbol: "ES".into(),
                sec_type: "FOP".into(),
                ..Default::default()
            })
            .is_empty()
        );
    }
}

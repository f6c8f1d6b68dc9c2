//! Instrument lookups beyond contract details: symbol search (reqMatchingSymbols), an option
//! chain's expiries and strikes (reqSecDefOptParams) and the earliest bar (reqHeadTimestamp).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeZone, Utc};

use crate::msg::{ContractSpec, OptParamsView, Response};
use crate::state::Core;
use crate::world::instruments::SecType;

/// TWS answers symbol searches with at most this many descriptions.
const MAX_SAMPLES: usize = 16;
/// The simulated history starts here (any earlier end date gets no bars).
const HEAD_TIMESTAMP: i64 = 1_136_298_600; // 2006-01-03 14:30:00 UTC

/// Expiries and strikes of one (exchange, trading class) of an option chain.
#[derive(Debug, Default)]
struct ChainRow {
    multiplier: f64,
    expirations: BTreeSet<String>,
    strikes: Vec<f64>,
}

impl Core {
    /// Underlyings whose symbol starts with, or whose name contains, the pattern.
    pub fn matching_symbols(&self, conn_id: u64, req_id: i32, pattern: &str) {
        let p = pattern.to_ascii_uppercase();
        let mut items = Vec::new();
        for inst in self.universe.all() {
            let hit = matches!(inst.sec_type, SecType::Stock | SecType::Index)
                && !p.is_empty()
                && (inst.symbol.starts_with(&p)
                    || inst.long_name.to_ascii_uppercase().contains(&p));
            if hit && items.len() < MAX_SAMPLES {
                let derivs: BTreeSet<String> = self
                    .universe
                    .all()
                    .iter()
                    .filter(|d| d.under_con_id == inst.con_id)
                    .map(|d| d.sec_type.code().to_string())
                    .collect();
                items.push((inst.view(), derivs.into_iter().collect()));
            }
        }
        self.send(conn_id, Response::SymbolSamples { req_id, items });
    }

    /// One row per (exchange, trading class) of the options on an underlying, then the end.
    pub fn sec_def_opt_params(
        &self,
        conn_id: u64,
        req_id: i32,
        symbol: &str,
        sec_type: &str,
        con_id: i32,
    ) {
        let under = self.universe.all().iter().find(|i| {
            (con_id > 0 && i.con_id == con_id)
                || (con_id <= 0
                    && i.symbol.eq_ignore_ascii_case(symbol)
                    && i.sec_type.code() == sec_type)
        });
        let mut rows: BTreeMap<(String, String), ChainRow> = BTreeMap::new();
        if let Some(u) = under {
            for o in self
                .universe
                .all()
                .iter()
                .filter(|o| o.under_con_id == u.con_id)
            {
                let row = rows
                    .entry((o.exchange.clone(), o.trading_class.clone()))
                    .or_default();
                row.multiplier = o.multiplier;
                row.expirations.insert(o.expiry.clone());
                if !row.strikes.contains(&o.strike) {
                    row.strikes.push(o.strike);
                }
            }
            for (
                (exchange, class),
                ChainRow {
                    multiplier: mult,
                    expirations: exps,
                    mut strikes,
                },
            ) in rows
            {
                strikes.sort_by(f64::total_cmp);
                let view = OptParamsView {
                    req_id,
                    exchange,
                    under_con_id: u.con_id,
                    trading_class: class,
                    multiplier: format!("{mult}"),
                    expirations: exps.into_iter().collect(),
                    strikes,
                };
                self.send(conn_id, Response::SecDefOptParam(Box::new(view)));
            }
        }
        self.send(conn_id, Response::SecDefOptParamEnd(req_id));
    }

    /// The earliest bar: epoch seconds for formatDate 2, `YYYYMMDD-HH:MM:SS` (UTC) otherwise.
    pub fn head_timestamp(
        &self,
        conn_id: u64,
        req_id: i32,
        contract: &ContractSpec,
        format_date: i32,
    ) {
        if self.universe.resolve(contract).is_none() {
            let r = self.error(
                req_id,
                200,
                "No security definition has been found for the request",
            );
            self.send(conn_id, r);
            return;
        }
        let value = if format_date == 2 {
            HEAD_TIMESTAMP.to_string()
        } else {
            let t = Utc
                .timestamp_opt(HEAD_TIMESTAMP, 0)
                .single()
                .unwrap_or_default();
            t.format("%Y%m%d-%H:%M:%S").to_string()
        };
        self.send(conn_id, Response::HeadTimestamp { req_id, value });
    }
}

//! Margin calculator commands: the live portfolio of an account as the engine's snapshot, the
//! engine's result for any portfolio with the enabled margin-rule scripts applied (each one a
//! node of the explanation), and the portfolio file of `tickwork margin` (read and written
//! here, never on the GTK thread).

use std::path::Path;

use chrono::{Duration as Days, Utc};
use rust_decimal::Decimal;
use tickwork_core::domain::{InstrumentSpec, Quote, SecType};
use tickwork_core::risk::margin::{Holding, MarginInputs, portfolio};
use tickwork_core::scripting::load_margin_rules;
use tickwork_core::store::{StoreError, account_values, instruments, market_data, positions};
use tickwork_margin::{Method, Portfolio, compute, locate, parse_portfolio, write_portfolio};
use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{MarginCommand, MarginEvent};

pub async fn handle(services: Services, command: MarginCommand) {
    match command {
        MarginCommand::Live { account } => {
            let what = format!("margin of {account}");
            let live = match live_portfolio(&services, &account).await {
                Ok(live) => live,
                Err(err) => return services.problem(&what, err),
            };
            match calculate(&services, live.portfolio, Method::RegT, live.equity).await {
                Ok(result) => services.tell(MarginEvent::LiveSummary {
                    account,
                    initial: result.initial,
                    maintenance: result.maintenance,
                }),
                Err(err) => services.problem(&what, err),
            }
        }
        MarginCommand::LoadLive { account } => match live_portfolio(&services, &account).await {
            Ok(live) => services.tell(MarginEvent::LivePortfolio {
                account,
                portfolio: Box::new(live.portfolio),
                equity: live.equity,
                left_out: live.left_out,
            }),
            Err(err) => services.problem(&format!("portfolio of {account}"), err),
        },
        MarginCommand::Calculate {
            request,
            portfolio,
            method,
        } => {
            // The calculator's portfolio may be edited or imported: no equity for the rules.
            let result = calculate(&services, *portfolio, method, None)
                .await
                .map(Box::new);
            services.tell(MarginEvent::Calculated { request, result });
        }
        MarginCommand::Import { path } => {
            let portfolio = import(&path).await.map(Box::new);
            services.tell(MarginEvent::Imported { path, portfolio });
        }
        MarginCommand::Export { path, portfolio } => {
            let outcome = tokio::fs::write(&path, write_portfolio(&portfolio))
                .await
                .map_err(|e| format!("{}: cannot write: {e}", path.display()));
            services.tell(MarginEvent::Exported { path, outcome });
        }
    }
}

/// The engine's result with the enabled margin rules applied (read when asked, so an edited
/// or switched rule shows at the next calculation); the optimal Reg T grouping is an exact
/// search, so it runs off the runtime's worker threads.
async fn calculate(
    services: &Services,
    portfolio: Portfolio,
    method: Method,
    equity: Option<Decimal>,
) -> Result<tickwork_margin::MarginResult, String> {
    let rules = load_margin_rules(&services.pool)
        .await
        .map_err(|e| format!("the margin rules could not be read: {e}"))?;
    tokio::task::spawn_blocking(move || {
        compute(&portfolio, method)
            .map(|builtin| rules.apply(&portfolio, builtin, equity))
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| format!("the margin engine stopped: {e}"))?
}

/// Reads a portfolio file; an error is one line naming the file, the line and the field, as
/// `tickwork margin` would (plus the line, which the CLI leaves out).
pub async fn import(path: &Path) -> Result<Portfolio, String> {
    let shown = path.display();
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| format!("{shown}: cannot read: {e}"))?;
    parse_portfolio(&text).map_err(|e| {
        // Invalid JSON already names its line and column.
        let line = (!e.path.starts_with("line ")).then(|| locate(&text, &e.path));
        match line.flatten() {
            Some(line) => format!("{shown}: line {line}: {e}"),
            None => format!("{shown}: {e}"),
        }
    })
}

/// An account's holdings as the engine sees them.
pub struct LivePortfolio {
    pub portfolio: Portfolio,
    pub equity: Option<Decimal>,
    pub left_out: Vec<String>,
}

/// The latest position snapshot of `account` (PostgreSQL), priced from the session's quotes
/// or, without one, the newest stored bar.
pub async fn live_portfolio(
    services: &Services,
    account: &str,
) -> Result<LivePortfolio, StoreError> {
    let pool = &services.pool;
    let view = services.live.as_ref().map(|l| &l.view);
    let held = positions::latest(pool, account)
        .await?
        .map(|(_, held)| held)
        .unwrap_or_default();
    let mut inputs = MarginInputs {
        as_of: Some(Utc::now().date_naive()),
        ..MarginInputs::default()
    };
    let mut left_out = Vec::new();
    for position in held.iter().filter(|p| !p.quantity.is_zero()) {
        let Some(instrument) = instruments::get(pool, position.instrument_id).await? else {
            continue;
        };
        let name = describe(&instrument.spec);
        if instrument.spec.sec_type == SecType::Cash {
            left_out.push(format!("{name}: forex is not margined by the engine"));
            continue;
        }
        let Some(mark) = price(services, instrument.id).await? else {
            left_out.push(format!("{name}: no price (watch it or load its chart)"));
            continue;
        };
        if matches!(
            instrument.spec.sec_type,
            SecType::Option | SecType::FutureOption
        ) && !inputs
            .underlying_prices
            .contains_key(&instrument.spec.symbol)
        {
            let symbol = &instrument.spec.symbol;
            let under = match instrument.spec.sec_type {
                SecType::Option => InstrumentSpec::stock(symbol),
                _ => InstrumentSpec {
                    sec_type: SecType::Future,
                    ..InstrumentSpec::stock(symbol)
                },
            };
            let found = match instruments::equivalent(pool, &under).await? {
                Some(u) => price(services, u.id).await?,
                None => None,
            };
            match found {
                Some(p) => {
                    inputs.underlying_prices.insert(symbol.clone(), p);
                }
                None => {
                    left_out.push(format!("{name}: no price for the underlying {symbol}"));
                    continue;
                }
            }
        }
        inputs.holdings.push(Holding {
            spec: instrument.spec,
            quantity: position.quantity,
            mark,
        });
    }
    let portfolio = portfolio(&inputs).unwrap_or_else(|err| {
        left_out.push(err.to_string());
        Portfolio::default()
    });
    let equity = match view.and_then(|v| v.equity(account)) {
        Some(e) => Some(e),
        None => stored_equity(services, account).await?,
    };
    Ok(LivePortfolio {
        portfolio,
        equity,
        left_out,
    })
}

fn describe(spec: &InstrumentSpec) -> String {
    match (spec.expiry, spec.strike, spec.right) {
        (Some(e), Some(k), Some(r)) => format!("{} {e} {k} {}", spec.symbol, r.as_str()),
        (Some(e), _, _) => format!("{} {e}", spec.symbol),
        _ => spec.symbol.clone(),
    }
}

async fn price(services: &Services, instrument_id: i64) -> Result<Option<Decimal>, StoreError> {
    let streamed = services
        .live
        .as_ref()
        .and_then(|l| l.view.quote(instrument_id))
        .as_ref()
        .and_then(Quote::reference_price);
    if streamed.is_some() {
        return Ok(streamed);
    }
    Ok(market_data::last_close(&services.pool, instrument_id)
        .await?
        .map(|(_, close)| close))
}

/// The newest stored equity with loan value of the last week.
async fn stored_equity(services: &Services, account: &str) -> Result<Option<Decimal>, StoreError> {
    let now = Utc::now();
    let values = account_values::between(&services.pool, account, now - Days::days(7), now).await?;
    Ok(values
        .iter()
        .rev()
        .find(|v| v.key == "EquityWithLoanValue")
        .and_then(|v| v.value.parse().ok()))
}

/// Updates this panel group follows while a session runs: none — the panel recalculates when
/// quotes arrive and asks for the live portfolio when positions change.
pub fn follow(_services: &Services, _live: &Live) -> Vec<JoinHandle<()>> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use sqlx::PgPool;
    use tickwork_core::domain::{Bar, OptionRight, Position};
    use tickwork_core::store::accounts;
    use tickwork_margin::{OptionSpec, Right, Underlying, UnderlyingClass};

    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }
    use crate::gui::backend::records::tests::services;
    use crate::gui::boundary::Notification;

    fn covered_call() -> Portfolio {
        let mut p = Portfolio {
            as_of: "2026-11-24".parse().ok(),
            ..Portfolio::default()
        };
        p.underlyings.insert(
            "AAPL".into(),
            Underlying::new("AAPL", d("187.20"), UnderlyingClass::Equity),
        );
        p.positions.push(tickwork_margin::Position::stock(
            "AAPL",
            d("100"),
            d("187.20"),
        ));
        p.positions.push(tickwork_margin::Position::option(
            "AAPL",
            OptionSpec {
                expiry: "2026-12-18".parse().unwrap(),
                right: Right::Call,
                strike: d("190"),
                multiplier: d("100"),
            },
            d("-1"),
            d("4.15"),
        ));
        p
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn calculate_gives_the_engines_figures(pool: PgPool) {
        let (services, told) = services(pool);
        let portfolio = covered_call();
        let expected = compute(&portfolio, Method::RegT).unwrap();
        handle(
            services,
            MarginCommand::Calculate {
                request: 7,
                portfolio: Box::new(portfolio),
                method: Method::RegT,
            },
        )
        .await;
        let told = told.lock().unwrap();
        let Notification::Margin(MarginEvent::Calculated { request, result }) = &told[0] else {
            panic!("{told:?}")
        };
        assert_eq!(*request, 7);
        let result = result.as_ref().unwrap();
        assert_eq!(**result, expected);
        assert_eq!(result.initial, d("4680.00"));
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn calculate_applies_the_enabled_margin_rules_as_explained_nodes(pool: PgPool) {
        use tickwork_core::store::scripts::{self, ScriptKind};
        let rules = [
            (
                "house",
                "fn margin(input) { #{initial: 100, maintenance: 50.5, reason: \"house\"} }",
            ),
            ("broken", "fn margin(input) { nope }"),
            (
                "off",
                "fn margin(input) { #{initial: 9999, maintenance: 9999} }",
            ),
        ];
        for (name, source) in rules {
            scripts::save(&pool, name, ScriptKind::MarginRule, source)
                .await
                .unwrap();
        }
        scripts::set_enabled(&pool, "off", false).await.unwrap();
        let (services, told) = services(pool);
        let portfolio = covered_call();
        let builtin = compute(&portfolio, Method::RegT).unwrap();
        handle(
            services,
            MarginCommand::Calculate {
                request: 1,
                portfolio: Box::new(portfolio),
                method: Method::RegT,
            },
        )
        .await;
        let told = told.lock().unwrap();
        let Notification::Margin(MarginEvent::Calculated { result, .. }) = &told[0] else {
            panic!("{told:?}")
        };
        let result = result.as_ref().unwrap();
        assert_eq!(result.initial, builtin.initial + d("100"));
        assert_eq!(result.maintenance, builtin.maintenance + d("50.5"));
        let rules: Vec<(&str, &str)> = result.groups[builtin.groups.len()..]
            .iter()
            .map(|n| (n.label.as_str(), n.rule.as_str()))
            .collect();
        assert_eq!(
            rules,
            [
                ("custom rule script:broken", "custom rule failed: ignored"),
                ("custom rule script:house", "custom rule: add-on"),
            ]
        );
        let broken = &result.groups[builtin.groups.len()].detail;
        assert!(
            broken.starts_with("does not compile: 1:20: Undefined variable: nope"),
            "{broken}"
        );
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn export_then_import_round_trips_and_bad_files_name_the_line(pool: PgPool) {
        let (services, told) = services(pool);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("book.json");
        handle(
            services.clone(),
            MarginCommand::Export {
                path: path.clone(),
                portfolio: Box::new(covered_call()),
            },
        )
        .await;
        handle(
            services.clone(),
            MarginCommand::Import { path: path.clone() },
        )
        .await;
        {
            let told = told.lock().unwrap();
            assert!(matches!(
                &told[0],
                Notification::Margin(MarginEvent::Exported {
                    outcome: Ok(()),
                    ..
                })
            ));
            let Notification::Margin(MarginEvent::Imported { portfolio, .. }) = &told[1] else {
                panic!("{told:?}")
            };
            assert_eq!(**portfolio.as_ref().unwrap(), covered_call());
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let bad = text.replace("\"strike\":\"190\"", "\"strike\":\"abc\"");
        assert_ne!(bad, text);
        std::fs::write(&path, &bad).unwrap();
        let err = import(&path).await.unwrap_err();
        let line = bad.lines().position(|l| l.contains("abc")).unwrap() + 1;
        assert_eq!(
            err,
            format!(
                "{}: line {line}: positions[1].strike: expected a decimal, got \"abc\"",
                path.display()
            )
        );
        assert!(!err.contains('\n'));
        std::fs::write(&path, "{\n  \"positions\": [,\n}").unwrap();
        let err = import(&path).await.unwrap_err();
        assert!(err.contains("line 2, column"), "{err}");
        let missing = import(&dir.path().join("none.json")).await.unwrap_err();
        assert!(missing.contains("none.json: cannot read"), "{missing}");
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn the_live_portfolio_comes_from_the_stored_snapshot_and_prices(pool: PgPool) {
        accounts::seen(&pool, "DU1").await.unwrap();
        let stock = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
            .await
            .unwrap();
        let call = instruments::upsert(
            &pool,
            &InstrumentSpec {
                sec_type: SecType::Option,
                expiry: NaiveDate::from_ymd_opt(2026, 12, 18),
                strike: Some(d("190")),
                right: Some(OptionRight::Call),
                multiplier: d("100"),
                ..InstrumentSpec::stock("AAPL")
            },
        )
        .await
        .unwrap();
        let msft = instruments::upsert(&pool, &InstrumentSpec::stock("MSFT"))
            .await
            .unwrap();
        let held = |id, quantity| Position {
            instrument_id: id,
            quantity,
            average_cost: d("1"),
        };
        positions::record_snapshot(
            &pool,
            "DU1",
            "sync",
            &[
                held(stock.id, d("100")),
                held(call.id, d("-1")),
                held(msft.id, d("10")),
            ],
        )
        .await
        .unwrap();
        let bar = |id, close| Bar {
            instrument_id: id,
            bar_seconds: 86_400,
            ts: Utc::now() - Days::days(1),
            open: close,
            high: close,
            low: close,
            close,
            volume: d("1"),
        };
        market_data::upsert_bars(
            &pool,
            &[bar(stock.id, d("187.20")), bar(call.id, d("4.15"))],
        )
        .await
        .unwrap();
        let (services, told) = services(pool);
        let live = live_portfolio(&services, "DU1").await.unwrap();
        assert_eq!(live.portfolio.positions.len(), 2);
        assert_eq!(
            live.left_out,
            ["MSFT: no price (watch it or load its chart)"]
        );
        assert_eq!(live.equity, None);
        handle(
            services,
            MarginCommand::Live {
                account: "DU1".into(),
            },
        )
        .await;
        let told = told.lock().unwrap();
        let Notification::Margin(MarginEvent::LiveSummary {
            account,
            initial,
            maintenance,
        }) = &told[0]
        else {
            panic!("{told:?}")
        };
        assert_eq!(account, "DU1");
        let expected = compute(&live.portfolio, Method::RegT).unwrap();
        assert_eq!(
            (*initial, *maintenance),
            (expected.initial, expected.maintenance)
        );
        assert_eq!(*initial, d("4680.00"));
    }
}

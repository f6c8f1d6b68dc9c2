//! Every rule denies with its reason and an audit row; read-only sends nothing.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::*;
use crate::domain::{InstrumentSpec, OrderSide, OrderType, TimeInForce};
use crate::store::{audit, orders};

const ACCOUNT: &str = "DU9000001";

fn buy_limit(quantity: Decimal, price: Decimal) -> OrderIntent {
    OrderIntent {
        origin: Origin::Ui,
        account: ACCOUNT.into(),
        instrument: InstrumentSpec::stock("AAPL"),
        side: OrderSide::Buy,
        quantity,
        order_type: OrderType::Limit,
        limit_price: Some(price),
        stop_price: None,
        time_in_force: TimeInForce::Day,
        parent_ref: None,
    }
}

/// A context in which `buy_limit(100, 187)` passes every rule.
fn passing() -> RiskContext {
    RiskContext {
        last_price: Some(dec!(187.20)),
        position: Decimal::ZERO,
        daily_pnl: dec!(-150),
        origin_may_trade: true,
        margin: Some(MarginImpact {
            initial_after: dec!(25000),
            equity_with_loan: dec!(100000),
            tws_initial_after: Some(dec!(25010.5)),
        }),
    }
}

async fn armed_router(pool: &PgPool) -> (OrderRouter, mpsc::Receiver<OrderCommand>) {
    let (tx, rx) = mpsc::channel(16);
    let router = OrderRouter::new(RiskGate::new(RiskLimits::default()), pool.clone(), tx);
    router.arm(ACCOUNT, "ui").await.unwrap();
    (router, rx)
}

async fn last_audit(pool: &PgPool) -> audit::AuditRecord {
    audit::recent(pool, 1).await.unwrap().remove(0)
}

#[sqlx::test(migrations = "../../migrations")]
async fn read_only_by_default_sends_nothing(pool: PgPool) {
    let (tx, mut rx) = mpsc::channel(16);
    let router = OrderRouter::new(RiskGate::new(RiskLimits::default()), pool.clone(), tx);
    let err = router
        .submit(buy_limit(dec!(100), dec!(187)), &passing())
        .await
        .unwrap_err();
    let SubmitError::Denied(denial) = err else {
        panic!("{err}")
    };
    assert_eq!(denial.rule, RiskRule::NotArmed);
    assert!(rx.try_recv().is_err(), "nothing may reach the session");
    assert!(orders::working(&pool, ACCOUNT).await.unwrap().is_empty());
    let row = last_audit(&pool).await;
    assert_eq!(
        (row.action.as_str(), row.decision.as_deref()),
        ("order.intent", Some("denied"))
    );
    assert!(
        row.reason
            .unwrap()
            .starts_with("not_armed: trading is not armed for account DU9000001")
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn allowed_order_is_audited_recorded_then_sent(pool: PgPool) {
    let (router, mut rx) = armed_router(&pool).await;
    let order_ref = router
        .submit(buy_limit(dec!(100), dec!(187)), &passing())
        .await
        .unwrap();
    let row = last_audit(&pool).await;
    assert_eq!(row.decision.as_deref(), Some("allowed"));
    assert_eq!(row.details["order_ref"], order_ref.as_str());
    assert_eq!(row.details["limit_price"], "187");
    assert_eq!(
        row.details["tws_initial_after"], "25010.5",
        "both what-if figures are kept"
    );
    let stored = orders::get(&pool, &order_ref).await.unwrap().unwrap();
    assert_eq!((stored.origin.as_str(), stored.quantity), ("ui", dec!(100)));
    match rx.try_recv().unwrap() {
        OrderCommand::Place {
            order_ref: sent,
            intent,
            ..
        } => {
            assert_eq!(sent, order_ref);
            assert_eq!(intent.limit_price, Some(dec!(187)));
        }
        other => panic!("{other:?}"),
    }
}

/// Each case: (what to change, the rule that must deny, words the reason must contain).
#[sqlx::test(migrations = "../../migrations")]
async fn every_rule_denies_with_its_reason_and_an_audit_row(pool: PgPool) {
    type Case = (
        &'static str,
        Box<dyn Fn(&mut OrderIntent, &mut RiskContext)>,
        RiskRule,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "zero quantity",
            Box::new(|i, _| i.quantity = Decimal::ZERO),
            RiskRule::InvalidOrder,
            "not positive",
        ),
        (
            "limit without price",
            Box::new(|i, _| i.limit_price = None),
            RiskRule::InvalidOrder,
            "needs a limit price",
        ),
        (
            "script without grant",
            Box::new(|i, c| {
                i.origin = Origin::Script("sma".into());
                c.origin_may_trade = false;
            }),
            RiskRule::OriginNotGranted,
            "script:sma has not been granted trading",
        ),
        (
            "quantity",
            Box::new(|i, _| i.quantity = dec!(501)),
            RiskRule::MaxQuantity,
            "quantity 501 exceeds the limit of 500",
        ),
        (
            "notional",
            Box::new(|i, _| i.quantity = dec!(300)),
            RiskRule::MaxNotional,
            "order value 56100 exceeds the limit of 50000",
        ),
        (
            "market order without quote",
            Box::new(|i, c| {
                i.order_type = OrderType::Market;
                i.limit_price = None;
                c.last_price = None;
            }),
            RiskRule::MaxNotional,
            "no price to value the order",
        ),
        (
            "collar",
            Box::new(|i, _| i.limit_price = Some(dec!(197))),
            RiskRule::PriceCollar,
            "5.24% from the last quote 187.20; the collar is 5%",
        ),
        (
            "collar without quote",
            Box::new(|_, c| c.last_price = None),
            RiskRule::PriceCollar,
            "no last quote",
        ),
        (
            "position",
            Box::new(|_, c| c.position = dec!(950)),
            RiskRule::PositionLimit,
            "position would be 1050; the limit is ±1000",
        ),
        (
            "daily loss",
            Box::new(|_, c| c.daily_pnl = dec!(-2000)),
            RiskRule::DailyLoss,
            "today's loss 2000 has reached the limit of 2000",
        ),
        (
            "margin unknown",
            Box::new(|_, c| c.margin = None),
            RiskRule::Margin,
            "margin impact unknown",
        ),
        (
            "margin exceeded",
            Box::new(|_, c| c.margin.as_mut().unwrap().initial_after = dec!(100000.01)),
            RiskRule::Margin,
            "initial margin after the order 100000.01 exceeds equity with loan 100000",
        ),
    ];
    let (router, mut rx) = armed_router(&pool).await;
    for (name, change, rule, words) in cases {
        let mut intent = buy_limit(dec!(100), dec!(187));
        let mut ctx = passing();
        change(&mut intent, &mut ctx);
        let err = router.submit(intent, &ctx).await.unwrap_err();
        let SubmitError::Denied(denial) = err else {
            panic!("{name}: {err}")
        };
        assert_eq!(denial.rule, rule, "{name}: {denial}");
        assert!(denial.reason.contains(words), "{name}: {}", denial.reason);
        let row = last_audit(&pool).await;
        assert_eq!(row.decision.as_deref(), Some("denied"), "{name}");
        assert_eq!(
            row.reason.as_deref(),
            Some(denial.to_string().as_str()),
            "{name}"
        );
        assert!(
            rx.try_recv().is_err(),
            "{name}: a denied order reached the session"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn reducing_orders_pass_position_loss_and_margin_limits(pool: PgPool) {
    let (router, mut rx) = armed_router(&pool).await;
    let mut ctx = passing();
    ctx.position = dec!(1200);
    ctx.daily_pnl = dec!(-5000);
    ctx.margin = None;
    let mut sell = buy_limit(dec!(100), dec!(187));
    sell.side = OrderSide::Sell;
    router.submit(sell, &ctx).await.unwrap();
    assert!(matches!(rx.try_recv().unwrap(), OrderCommand::Place { .. }));
}

#[sqlx::test(migrations = "../../migrations")]
async fn order_rate_counts_allowed_orders(pool: PgPool) {
    let (tx, _rx) = mpsc::channel(64);
    let mut gate = RiskGate::new(RiskLimits::default());
    gate.set_limits(
        ACCOUNT,
        RiskLimits {
            max_orders_per_minute: 3,
            ..RiskLimits::default()
        },
    );
    let router = OrderRouter::new(gate, pool.clone(), tx);
    router.arm(ACCOUNT, "ui").await.unwrap();
    for _ in 0..3 {
        router
            .submit(buy_limit(dec!(1), dec!(187)), &passing())
            .await
            .unwrap();
    }
    let err = router
        .submit(buy_limit(dec!(1), dec!(187)), &passing())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SubmitError::Denied(Denial {
                rule: RiskRule::OrderRate,
                ..
            })
        ),
        "{err}"
    );
    assert!(
        last_audit(&pool)
            .await
            .reason
            .unwrap()
            .contains("3 orders in the last minute; the limit is 3")
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn kill_switch_cancels_working_orders_and_disarms(pool: PgPool) {
    let (router, mut rx) = armed_router(&pool).await;
    let first = router
        .submit(buy_limit(dec!(10), dec!(187)), &passing())
        .await
        .unwrap();
    let second = router
        .submit(buy_limit(dec!(20), dec!(186)), &passing())
        .await
        .unwrap();
    orders::update_status(&pool, &second, "Filled", dec!(20), Some(dec!(186)))
        .await
        .unwrap();
    while rx.try_recv().is_ok() {}

    let cancelled = router
        .kill_switch("ui", &[ACCOUNT.to_owned()])
        .await
        .unwrap();
    assert_eq!(
        cancelled,
        vec![first.clone()],
        "only the working order is cancelled"
    );
    assert_eq!(
        rx.try_recv().unwrap(),
        OrderCommand::Cancel { order_ref: first }
    );
    assert!(!router.is_armed(ACCOUNT).await);
    let err = router
        .submit(buy_limit(dec!(1), dec!(187)), &passing())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        SubmitError::Denied(Denial {
            rule: RiskRule::KillSwitch,
            ..
        })
    ));
    assert!(
        router.arm(ACCOUNT, "ui").await.is_err(),
        "arming is refused until the switch is reset"
    );
    router.reset_kill_switch("ui").await.unwrap();
    router.arm(ACCOUNT, "ui").await.unwrap();
    let actions: Vec<String> = audit::recent(&pool, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(actions.contains(&"trading.kill_switch".to_owned()));
    assert!(actions.contains(&"trading.kill_switch_reset".to_owned()));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_read_only_profile_can_never_be_armed(pool: PgPool) {
    let (tx, mut rx) = mpsc::channel(16);
    let router = OrderRouter::new(RiskGate::read_only(RiskLimits::default()), pool.clone(), tx);
    let err = router.arm(ACCOUNT, "ui").await.unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(
        router
            .submit(buy_limit(dec!(1), dec!(187)), &passing())
            .await
            .is_err()
    );
    assert!(rx.try_recv().is_err());
    let row = last_audit(&pool).await;
    assert_eq!(row.action, "order.intent");
    let arm_row = audit::recent(&pool, 2).await.unwrap().pop().unwrap();
    assert_eq!(
        (arm_row.action.as_str(), arm_row.decision.as_deref()),
        ("trading.arm", Some("denied"))
    );
}

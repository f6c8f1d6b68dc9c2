//! Every rule denies with its reason and an audit row; read-only sends nothing.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use sqlx::PgPool;

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
        quote_age: Some(std::time::Duration::from_millis(300)),
        quote_delayed: false,
        position: Decimal::ZERO,
        daily_pnl: Some(dec!(-150)),
        origin_may_trade: true,
        margin: Some(MarginImpact {
            initial_after: dec!(25000),
            equity_with_loan: dec!(100000),
            tws_initial_after: Some(dec!(25010.5)),
            tws_equity_with_loan_after: None,
            custom_rules: None,
        }),
    }
}

async fn armed_router(pool: &PgPool) -> (OrderRouter, OrderInbox) {
    let (router, inbox) = order_path(RiskGate::new(RiskLimits::default()), pool.clone());
    router.arm(ACCOUNT, "ui").await.unwrap();
    (router, inbox)
}

async fn last_audit(pool: &PgPool) -> audit::AuditRecord {
    audit::recent(pool, 1).await.unwrap().remove(0)
}

#[sqlx::test(migrations = "../../migrations")]
async fn read_only_by_default_sends_nothing(pool: PgPool) {
    let (router, mut rx) = order_path(RiskGate::new(RiskLimits::default()), pool.clone());
    let err = router
        .submit(buy_limit(dec!(100), dec!(187)), &passing())
        .await
        .unwrap_err();
    let SubmitError::Denied(denial) = err else {
        panic!("{err}")
    };
    assert_eq!(denial.rule, RiskRule::NotArmed);
    assert!(rx.try_recv().is_none(), "nothing may reach the session");
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
    match rx.try_recv().unwrap().into_command() {
        Command::Place {
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
            RiskRule::StaleQuote,
            "no quote to value the order",
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
            RiskRule::StaleQuote,
            "no quote to check the price against",
        ),
        (
            "position",
            Box::new(|_, c| c.position = dec!(950)),
            RiskRule::PositionLimit,
            "position would be 1050; the limit is ±1000",
        ),
        (
            "daily loss",
            Box::new(|_, c| c.daily_pnl = Some(dec!(-2000))),
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
            rx.try_recv().is_none(),
            "{name}: a denied order reached the session"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn reducing_orders_pass_position_loss_and_margin_limits(pool: PgPool) {
    let (router, mut rx) = armed_router(&pool).await;
    let mut ctx = passing();
    ctx.position = dec!(1200);
    ctx.daily_pnl = Some(dec!(-5000));
    ctx.margin = None;
    let mut sell = buy_limit(dec!(100), dec!(187));
    sell.side = OrderSide::Sell;
    router.submit(sell, &ctx).await.unwrap();
    assert!(matches!(
        rx.try_recv().unwrap().command(),
        Command::Place { .. }
    ));
}

#[sqlx::test(migrations = "../../migrations")]
async fn order_rate_counts_allowed_orders(pool: PgPool) {
    let mut gate = RiskGate::new(RiskLimits::default());
    gate.set_limits(
        ACCOUNT,
        RiskLimits {
            max_orders_per_minute: 3,
            ..RiskLimits::default()
        },
    );
    let (router, _inbox) = order_path(gate, pool.clone());
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
async fn kill_switch_disarms_at_once_and_hands_the_session_the_cancel(pool: PgPool) {
    let (router, mut rx) = armed_router(&pool).await;
    router
        .submit(buy_limit(dec!(10), dec!(187)), &passing())
        .await
        .unwrap();
    while rx.try_recv().is_some() {}
    let mut halted = router.halted();
    assert!(!*halted.borrow_and_update());

    router.kill_switch("ui", true).unwrap();
    assert!(
        *halted.borrow_and_update(),
        "strategy hosts are told at once"
    );
    assert!(matches!(
        rx.try_recv().unwrap().command(),
        Command::KillSwitch {
            global_cancel: true
        }
    ));
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
    // The kill switch's own audit row is written in the background (it must not wait for the
    // database); give it a moment.
    let mut actions: Vec<String> = Vec::new();
    for _ in 0..50 {
        actions = audit::recent(&pool, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.action)
            .collect();
        if actions.contains(&"trading.kill_switch".to_owned()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(actions.contains(&"trading.kill_switch".to_owned()));
    assert!(actions.contains(&"trading.kill_switch_reset".to_owned()));
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_read_only_profile_can_never_be_armed(pool: PgPool) {
    let (router, mut rx) = order_path(RiskGate::read_only(RiskLimits::default()), pool.clone());
    let err = router.arm(ACCOUNT, "ui").await.unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(
        router
            .submit(buy_limit(dec!(1), dec!(187)), &passing())
            .await
            .is_err()
    );
    assert!(rx.try_recv().is_none());
    let row = last_audit(&pool).await;
    assert_eq!(row.action, "order.intent");
    let arm_row = audit::recent(&pool, 2).await.unwrap().pop().unwrap();
    assert_eq!(
        (arm_row.action.as_str(), arm_row.decision.as_deref()),
        ("trading.arm", Some("denied"))
    );
}

#[test]
fn a_flip_is_a_close_plus_an_opening() {
    let mut ctx = passing();
    ctx.position = dec!(400);
    let mut sell = buy_limit(dec!(500), dec!(187));
    sell.side = OrderSide::Sell;
    assert_eq!(opening_quantity(&ctx, &sell), dec!(100));
    sell.quantity = dec!(400);
    assert_eq!(
        opening_quantity(&ctx, &sell),
        dec!(0),
        "flat is not an opening"
    );
    sell.quantity = dec!(300);
    assert_eq!(opening_quantity(&ctx, &sell), dec!(0));
    let buy = buy_limit(dec!(50), dec!(187));
    assert_eq!(opening_quantity(&ctx, &buy), dec!(50));
    ctx.position = dec!(-100);
    assert_eq!(
        opening_quantity(&ctx, &buy_limit(dec!(250), dec!(187))),
        dec!(150)
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_opening_part_of_a_flip_faces_the_loss_margin_and_position_rules(pool: PgPool) {
    let (router, _rx) = armed_router(&pool).await;
    let mut sell = buy_limit(dec!(50), dec!(187));
    sell.side = OrderSide::Sell;
    // Long 40 with today's loss over the limit: closing 40 is fine, opening 10 short is not.
    let mut ctx = passing();
    ctx.position = dec!(40);
    ctx.daily_pnl = Some(dec!(-2500));
    let err = router.submit(sell.clone(), &ctx).await.unwrap_err();
    assert!(err.to_string().contains("daily_loss"), "{err}");
    assert!(err.to_string().contains("opens 10)"), "{err}");
    // The same flip with margin unknown is refused by the margin rule.
    ctx.daily_pnl = Some(dec!(0));
    ctx.margin = None;
    let err = router.submit(sell.clone(), &ctx).await.unwrap_err();
    assert!(
        err.to_string().starts_with("order denied by margin"),
        "{err}"
    );
    // Selling only the 40 passes all three, even with the loss and margin unknown.
    ctx.daily_pnl = Some(dec!(-2500));
    sell.quantity = dec!(40);
    router.submit(sell, &ctx).await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn stale_or_delayed_quotes_cannot_pass_a_price_rule(pool: PgPool) {
    let (router, _rx) = armed_router(&pool).await;
    let mut ctx = passing();
    ctx.quote_age = Some(std::time::Duration::from_secs(12));
    let err = router
        .submit(buy_limit(dec!(10), dec!(187)), &ctx)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "order denied by stale_quote: the quote is 12.0 s old; prices older than 5 s cannot \
         check the price against"
    );
    ctx.quote_age = Some(std::time::Duration::from_millis(100));
    ctx.quote_delayed = true;
    let err = router
        .submit(buy_limit(dec!(10), dec!(187)), &ctx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("delayed market data"), "{err}");
    ctx.quote_age = None;
    ctx.quote_delayed = false;
    let err = router
        .submit(buy_limit(dec!(10), dec!(187)), &ctx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("age is unknown"), "{err}");
    assert_eq!(last_audit(&pool).await.decision.as_deref(), Some("denied"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn tws_what_if_saying_the_order_breaches_margin_denies_it(pool: PgPool) {
    let (router, _rx) = armed_router(&pool).await;
    let mut ctx = passing();
    ctx.margin = Some(MarginImpact {
        initial_after: dec!(25000),
        equity_with_loan: dec!(100000),
        tws_initial_after: Some(dec!(120000)),
        tws_equity_with_loan_after: Some(dec!(99990)),
        custom_rules: None,
    });
    let err = router
        .submit(buy_limit(dec!(10), dec!(187)), &ctx)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "order denied by margin: TWS's what-if: initial margin after the order 120000 exceeds \
         equity with loan 99990"
    );
    let row = last_audit(&pool).await;
    assert_eq!(row.details["tws_initial_after"], "120000");
    assert_eq!(row.details["margin_initial_after"], "25000");
}

/// The gate's margin check uses the figure with the enabled margin-rule scripts: a rule's
/// add-on turns an order that fits the account's equity into a margin denial, named in the
/// reason and the audit row; switching the rule off lets it pass again.
#[sqlx::test(migrations = "../../migrations")]
async fn a_margin_rule_add_on_turns_an_allowed_order_into_a_margin_denial(pool: PgPool) {
    use crate::domain::Quote;
    use crate::hub::{AccountValue, Hub};
    use crate::store::{instruments, scripts};

    let hub = Hub::new();
    let view = RiskView::follow(&hub);
    let aapl = instruments::upsert(&pool, &InstrumentSpec::stock("AAPL"))
        .await
        .unwrap();
    hub.publish_quote(Quote {
        instrument_id: aapl.id,
        last: Some(dec!(187.20)),
        updated_at: Some(chrono::Utc::now()),
        ..Quote::default()
    });
    // Equity 1,000; today's P&L flat.
    for (key, value, currency) in [
        ("EquityWithLoanValue", "1000", "USD"),
        ("RealizedPnL", "0", "BASE"),
        ("UnrealizedPnL", "0", "BASE"),
    ] {
        hub.publish_account(AccountValue {
            account: ACCOUNT.into(),
            key: key.into(),
            value: value.into(),
            currency: currency.into(),
        });
    }
    // 20 AAPL at 187: Reg T 25% is 935, under the equity.
    let intent = buy_limit(dec!(20), dec!(187));
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let ctx = loop {
        let ctx = view.context_for(&pool, &intent, true, None).await.unwrap();
        if (ctx.margin.is_some() && ctx.daily_pnl.is_some() && ctx.last_price.is_some())
            || std::time::Instant::now() > give_up
        {
            break ctx;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let margin = ctx.margin.clone().expect("the view knows the margin");
    assert_eq!(
        (margin.initial_after, margin.custom_rules),
        (dec!(935), None)
    );
    let (router, _rx) = armed_router(&pool).await;
    router.preview(&intent, &ctx).await.unwrap();

    scripts::save(
        &pool,
        "house",
        scripts::ScriptKind::MarginRule,
        "fn margin(input) { #{initial: 100, maintenance: 100, reason: \"house surcharge\"} }",
    )
    .await
    .unwrap();
    let ctx = view.context_for(&pool, &intent, true, None).await.unwrap();
    assert_eq!(ctx.margin.as_ref().unwrap().initial_after, dec!(1035));
    let err = router.submit(intent.clone(), &ctx).await.unwrap_err();
    let SubmitError::Denied(denial) = err else {
        panic!("{err}")
    };
    assert_eq!(denial.rule, RiskRule::Margin);
    assert_eq!(
        denial.reason,
        "initial margin after the order 1035.00 exceeds equity with loan 1000 (custom margin \
         rules: script:house +100 initial)"
    );
    let row = last_audit(&pool).await;
    assert_eq!(row.decision.as_deref(), Some("denied"));
    assert_eq!(
        row.details["margin_custom_rules"],
        "script:house +100 initial"
    );

    scripts::set_enabled(&pool, "house", false).await.unwrap();
    let ctx = view.context_for(&pool, &intent, true, None).await.unwrap();
    router.preview(&intent, &ctx).await.unwrap();
}

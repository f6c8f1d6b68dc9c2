//! The example rules on portfolios with exact add-ons; hostile and malformed rules fail alone,
//! with a clear message, and the others still apply; the clamp under each policy.

use std::sync::Arc;

use rust_decimal_macros::dec;
use tickwork_margin::{
    Method, OptionSpec, OverridePolicy, Position, Right, Underlying, UnderlyingClass,
    apply_custom_rules, compute,
};

use super::*;
use crate::risk::margin::{MarginRules, SharedRule};

const CONCENTRATION: &str = include_str!("../../../../../scripts/margin/concentration.rhai");
const SHORT_OPTION_FLOOR: &str =
    include_str!("../../../../../scripts/margin/short_option_floor.rhai");

fn stock(p: &mut Portfolio, symbol: &str, qty: Decimal, price: Decimal) {
    p.underlyings.insert(
        symbol.into(),
        Underlying::new(symbol, price, UnderlyingClass::Equity),
    );
    p.positions.push(Position::stock(symbol, qty, price));
}

/// 100 AAPL at 187.20 and 10 MSFT at 400.
fn concentrated() -> Portfolio {
    let mut p = Portfolio::default();
    stock(&mut p, "AAPL", dec!(100), dec!(187.20));
    stock(&mut p, "MSFT", dec!(10), dec!(400));
    p
}

/// 3 short XYZ 2026-12-18 10 puts at 0.05, XYZ at 20.
fn short_puts() -> Portfolio {
    let mut p = Portfolio {
        as_of: "2026-11-24".parse().ok(),
        ..Portfolio::default()
    };
    p.underlyings.insert(
        "XYZ".into(),
        Underlying::new("XYZ", dec!(20), UnderlyingClass::Equity),
    );
    let put = OptionSpec {
        expiry: "2026-12-18".parse().unwrap(),
        right: Right::Put,
        strike: dec!(10),
        multiplier: dec!(100),
    };
    p.positions
        .push(Position::option("XYZ", put, dec!(-3), dec!(0.05)));
    p
}

fn rule(name: &str, source: &str) -> ScriptMarginRule {
    ScriptMarginRule::compile(name, source).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn evaluate(source: &str, portfolio: &Portfolio) -> Result<RuleOutcome, String> {
    let builtin = compute(portfolio, Method::RegT).unwrap();
    rule("test", source).evaluate(portfolio, &builtin)
}

fn add_on(initial: Decimal, maintenance: Decimal) -> impl Fn(&RuleOutcome) -> bool {
    move |o| {
        matches!(o, RuleOutcome::AddOn { initial: i, maintenance: m, .. }
        if *i == initial && *m == maintenance)
    }
}

#[test]
fn concentration_charges_the_exposure_above_the_limit() {
    // Gross 22,720; 30% is 6,816; AAPL's 18,720 is 11,904 above it; 10% of that.
    let outcome = evaluate(CONCENTRATION, &concentrated()).unwrap();
    assert!(
        add_on(dec!(1190.40), dec!(1190.40))(&outcome),
        "{outcome:?}"
    );
    let RuleOutcome::AddOn { reason, .. } = outcome else {
        unreachable!()
    };
    assert!(
        reason.contains("AAPL") && !reason.contains("MSFT"),
        "{reason}"
    );

    // Four names of equal weight: each is 25%, under the limit.
    let mut spread = Portfolio::default();
    for symbol in ["AAPL", "MSFT", "XOM", "JPM"] {
        stock(&mut spread, symbol, dec!(10), dec!(100));
    }
    assert_eq!(
        evaluate(CONCENTRATION, &spread).unwrap(),
        RuleOutcome::Unchanged
    );
}

#[test]
fn short_option_floor_tops_the_requirement_up_to_the_floor() {
    let portfolio = short_puts();
    let builtin = compute(&portfolio, Method::RegT).unwrap();
    // Reg T: 10% of the strike plus the premium, per contract: (1 + 0.05) × 100 × 3.
    assert_eq!(builtin.initial, dec!(315));
    assert_eq!(builtin.maintenance, dec!(315));
    let outcome = evaluate(SHORT_OPTION_FLOOR, &portfolio).unwrap();
    assert!(add_on(dec!(1185), dec!(1185))(&outcome), "{outcome:?}");

    // Through the extension point: the requirement is the floor, with a node saying why.
    let floor = rule("short_option_floor", SHORT_OPTION_FLOOR);
    let result = apply_custom_rules(&portfolio, builtin, &[&floor], OverridePolicy::OnlyRaise);
    assert_eq!(
        (result.initial, result.maintenance),
        (dec!(1500), dec!(1500))
    );
    let node = result.groups.last().unwrap();
    assert_eq!(node.label, "custom rule script:short_option_floor");
    assert_eq!(node.initial, dec!(1185));
    assert!(
        node.detail.contains("3 short option contracts"),
        "{}",
        node.detail
    );

    // No short option: nothing to floor.
    assert_eq!(
        evaluate(SHORT_OPTION_FLOOR, &concentrated()).unwrap(),
        RuleOutcome::Unchanged
    );
}

#[test]
fn a_rule_reads_every_leg_field_and_the_requirement_so_far() {
    let source = r#"
        fn margin(input) {
            let leg = input.legs[0];
            let text = `${leg.symbol} ${leg.sec_type} ${leg.qty} ${leg.mark} ${leg.multiplier} `
                + `${leg.strike} ${leg.right} ${leg.expiry} ${leg.underlying_price} ${leg.class} `
                + `${leg.value} ${leg.notional} ${leg.is_short} ${leg.is_option} | `
                + `${input.method} ${input.as_of} ${input.initial} ${input.maintenance} `
                + `${input.equity} ${input.prices.XYZ}`;
            #{initial: 0, maintenance: 0, reason: text}
        }
    "#;
    let RuleOutcome::AddOn { reason, .. } = evaluate(source, &short_puts()).unwrap() else {
        panic!()
    };
    assert_eq!(
        reason,
        "XYZ option -3 0.05 100 10 P 2026-12-18 20 equity -15.00 6000 true true | \
         regt 2026-11-24 315.00 315.00  20"
    );
    // The equity is the account's, when the caller knows it.
    let builtin = compute(&short_puts(), Method::RegT).unwrap();
    let read = rule(
        "eq",
        "fn margin(input) { #{initial: input.equity, maintenance: 0} }",
    );
    let outcome = with_equity(Some(dec!(2500.5)), || {
        read.evaluate(&short_puts(), &builtin)
    });
    assert!(add_on(dec!(2500.5), dec!(0))(&outcome.unwrap()));
    let outcome = read.evaluate(&short_puts(), &builtin).unwrap_err();
    assert!(outcome.contains("`initial` as a ()"), "{outcome}");
}

#[test]
fn hostile_and_malformed_rules_fail_with_a_clear_message() {
    let portfolio = concentrated();
    for (source, expected) in [
        (
            "fn margin(input) { loop { } }",
            "in fn margin: stopped: too many operations",
        ),
        (
            "fn f(n) { f(n + 1) } fn margin(input) { f(0) }",
            "stopped: calls nested too deeply",
        ),
        (
            "fn margin(input) { let s = \"x\"; loop { s += s; } }",
            "string too large",
        ),
        (
            "fn margin(input) { buy(\"SPY\", 1) }",
            "1:20: Function not found: buy (&str | ImmutableString | String, i64): margin \
             rules cannot trade",
        ),
        (
            "fn margin(input) { input.initial = 0; () }",
            "1:26: No writable property 'initial'",
        ),
        (
            "fn margin(input) { for leg in input.legs { leg.qty = 0; } () }",
            "No writable property 'qty'",
        ),
        (
            "fn margin(input) { input.nope }",
            "1:26: Unknown property 'nope'",
        ),
        (
            "fn margin(input) { #{initial: -1, maintenance: 0} }",
            "fn margin returned a negative `initial` (-1)",
        ),
        (
            "fn margin(input) { #{initial: 1} }",
            "fn margin returned no `maintenance`",
        ),
        (
            "fn margin(input) { #{initial: 1, maintenance: 1, margin: 2} }",
            "fn margin returned an unknown key `margin`",
        ),
        (
            "fn margin(input) { #{initial: \"1\", maintenance: 1} }",
            "`initial` as a string",
        ),
        (
            "fn margin(input) { #{initial: 1, maintenance: 1, override: 1} }",
            "`override` as a i64",
        ),
        (
            "fn margin(input) { 1000 }",
            "fn margin returned a value of type i64",
        ),
        (
            "fn margin(input) { #{initial: 1000000000000000.01, maintenance: 0} }",
            "more than 10^15",
        ),
    ] {
        let err = evaluate(source, &portfolio).unwrap_err();
        assert!(err.contains(expected), "{source}\n  gave {err}");
    }
}

#[test]
fn what_cannot_compile_is_refused_at_line_and_column() {
    for (source, expected) in [
        (
            "fn margin(input) { ctx.buy(\"SPY\", 1) }",
            "1:20: Undefined variable: ctx",
        ),
        (
            "fn margin(input) {\n  limit * 2\n}",
            "2:3: Undefined variable: limit",
        ),
        (
            "fn rule(p) { () }",
            "a margin rule defines fn margin(input)",
        ),
        (
            "fn margin(a, b) { () }",
            "fn margin takes one parameter (input), this one takes 2",
        ),
        ("fn margin(input) { #{initial: 1 }", "1:"),
    ] {
        let err = ScriptMarginRule::compile("bad", source).unwrap_err();
        assert!(err.to_string().contains(expected), "{source}\n  gave {err}");
    }
}

#[test]
fn a_failing_rule_is_ignored_and_the_others_still_apply() {
    let portfolio = concentrated();
    let builtin = compute(&portfolio, Method::RegT).unwrap();
    let looping = rule("looping", "fn margin(input) { loop { } }");
    let broken = BrokenMarginRule::new(
        "broken",
        &ScriptMarginRule::compile("broken", "fn margin(input) { nope }").unwrap_err(),
    );
    let concentration = rule("concentration", CONCENTRATION);
    let result = apply_custom_rules(
        &portfolio,
        builtin.clone(),
        &[&looping, &broken, &concentration],
        OverridePolicy::OnlyRaise,
    );
    assert_eq!(result.initial, builtin.initial + dec!(1190.40));
    let nodes = &result.groups[builtin.groups.len()..];
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[0].rule, "custom rule failed: ignored");
    assert!(
        nodes[0].detail.contains("too many operations"),
        "{}",
        nodes[0].detail
    );
    assert_eq!(nodes[1].rule, "custom rule failed: ignored");
    assert_eq!(
        nodes[1].detail,
        "does not compile: 1:20: Undefined variable: nope"
    );
    assert_eq!(nodes[2].rule, "custom rule: add-on");
}

#[test]
fn rules_only_raise_unless_the_user_allowed_lowering() {
    let portfolio = concentrated();
    let builtin = compute(&portfolio, Method::RegT).unwrap();
    let lower: SharedRule = Arc::new(rule(
        "lower",
        "fn margin(input) { #{override: true, initial: 1000, maintenance: 800, reason: \"desk\"} }",
    ));
    let raise: SharedRule = Arc::new(rule(
        "raise",
        "fn margin(input) { #{override: true, initial: input.initial * 2, \
         maintenance: input.maintenance, reason: \"double\"} }",
    ));
    let only_raise = MarginRules::new(vec![lower.clone()], OverridePolicy::OnlyRaise);
    let kept = only_raise.apply(&portfolio, builtin.clone(), None);
    assert_eq!(
        (kept.initial, kept.maintenance),
        (builtin.initial, builtin.maintenance)
    );
    assert_eq!(kept.groups.last().unwrap().initial, Decimal::ZERO);

    let allowed = only_raise
        .clone()
        .with_policy(OverridePolicy::AllowLowering)
        .apply(&portfolio, builtin.clone(), None);
    assert_eq!(
        (allowed.initial, allowed.maintenance),
        (dec!(1000), dec!(800))
    );
    assert_eq!(
        allowed.groups.last().unwrap().initial,
        dec!(1000) - builtin.initial
    );

    // Raising through an override works under either policy.
    let doubled = MarginRules::new(vec![raise], OverridePolicy::OnlyRaise).apply(
        &portfolio,
        builtin.clone(),
        None,
    );
    assert_eq!(doubled.initial, builtin.initial * dec!(2));
}

#[test]
fn each_call_is_pure_and_top_level_constants_are_parameters() {
    let portfolio = concentrated();
    let counting = rule(
        "counting",
        "const STEP = 5;\nlet calls = 0;\ncalls += 1;\n\
         fn margin(input) { #{initial: global::STEP, maintenance: 0} }",
    );
    let builtin = compute(&portfolio, Method::RegT).unwrap();
    let first = counting.evaluate(&portfolio, &builtin).unwrap();
    let second = counting.evaluate(&portfolio, &builtin).unwrap();
    assert_eq!(first, second);
    assert!(add_on(dec!(5), dec!(0))(&first));
    // print goes nowhere (a rule runs inside the gate).
    let quiet = rule("quiet", "fn margin(input) { print(\"x\"); debug(1); () }");
    assert_eq!(
        quiet.evaluate(&portfolio, &builtin).unwrap(),
        RuleOutcome::Unchanged
    );
    assert_eq!(quiet.name(), "script:quiet");
}

#[sqlx::test(migrations = "../../migrations")]
async fn stored_enabled_rules_load_with_the_users_policy(pool: sqlx::PgPool) {
    use crate::store::scripts::{self, ScriptKind};
    use crate::store::settings;

    let save = |name: &'static str, source: &'static str| {
        let pool = pool.clone();
        async move {
            scripts::save(&pool, name, ScriptKind::MarginRule, source)
                .await
                .unwrap()
        }
    };
    save("b_floor", SHORT_OPTION_FLOOR).await;
    save("a_broken", "fn margin(input) {").await;
    save(
        "c_off",
        "fn margin(input) { #{initial: 1, maintenance: 1} }",
    )
    .await;
    scripts::set_enabled(&pool, "c_off", false).await.unwrap();
    scripts::save(
        &pool,
        "strategy",
        ScriptKind::Strategy,
        "fn on_bar(ctx, bar) {}",
    )
    .await
    .unwrap();

    let rules = load_margin_rules(&pool).await.unwrap();
    assert_eq!(rules.policy(), OverridePolicy::OnlyRaise);
    let portfolio = short_puts();
    let builtin = compute(&portfolio, Method::RegT).unwrap();
    let result = rules.apply(&portfolio, builtin.clone(), None);
    assert_eq!(result.initial, dec!(1500));
    let labels: Vec<&str> = result.groups[builtin.groups.len()..]
        .iter()
        .map(|n| n.label.as_str())
        .collect();
    assert_eq!(
        labels,
        ["custom rule script:a_broken", "custom rule script:b_floor"]
    );

    settings::put(&pool, ALLOW_LOWERING_SETTING, &true)
        .await
        .unwrap();
    let loader = MarginRuleLoader::default();
    let first = loader.load(&pool).await.unwrap();
    assert_eq!(first.policy(), OverridePolicy::AllowLowering);
    // Unchanged rules are not compiled again; an edit or a switch is picked up.
    scripts::set_enabled(&pool, "c_off", true).await.unwrap();
    save("a_broken", "fn margin(input) { () }").await;
    let second = loader.load(&pool).await.unwrap();
    let result = second.apply(&portfolio, builtin.clone(), None);
    let rules: Vec<&str> = result.groups[builtin.groups.len()..]
        .iter()
        .map(|n| n.rule.as_str())
        .collect();
    assert_eq!(
        rules,
        [
            "custom rule: no change",
            "custom rule: add-on",
            "custom rule: add-on"
        ]
    );
    // A setting of the wrong shape keeps the safe default.
    settings::put(&pool, ALLOW_LOWERING_SETTING, &"yes")
        .await
        .unwrap();
    assert_eq!(
        loader.load(&pool).await.unwrap().policy(),
        OverridePolicy::OnlyRaise
    );
}

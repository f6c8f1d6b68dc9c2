//! The adapter against rules written here as plain `extern "C"` functions: what a rule sees,
//! what it may answer, and what happens when it panics, answers nonsense or never answers.

use std::sync::Mutex;

use rust_decimal_macros::dec;
use tickwork_margin::{Method, OverridePolicy, apply_custom_rules, compute, parse_portfolio};
use tickwork_plugin_api::abi::{TW_ERR_PANICKED, TwMarginRuleV1, TwStatus};

use super::*;
use crate::plugins::capability::{MarginRuleTable, Provider};
use crate::plugins::permissions::Permissions;

const BOOK: &str = r#"{
  "as_of": "2026-11-24",
  "underlyings": {"XYZ": {"price": "600", "class": "equity"}},
  "positions": [
    {"kind": "stock", "symbol": "XYZ", "qty": 100, "price": "600"},
    {"kind": "option", "symbol": "XYZ", "right": "P", "strike": "590", "expiry": "2026-12-18", "multiplier": 100, "qty": -2, "price": "7.5"}
  ]
}"#;

type Compute = unsafe extern "C" fn(*const TwMarginInput, *mut TwMarginResult) -> TwStatus;

fn rule(id: &'static str, compute: Compute, may_lower: bool) -> PluginMarginRule {
    PluginMarginRule {
        provider: Provider {
            plugin_id: format!("org.test.{id}"),
            plugin_version: "1.0".into(),
            permissions: Permissions {
                margin_override: may_lower,
                ..Permissions::default()
            },
        },
        rule_id: id.into(),
        table: MarginRuleTable(TwMarginRuleV1 {
            struct_size: v1_0_size::MARGIN_RULE,
            _reserved: 0,
            rule_id: TwStr {
                ptr: id.as_ptr(),
                len: id.len(),
            },
            compute: Some(compute),
        }),
    }
}

/// What `seen` saw of its input, one line per leg.
static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe fn answer(out: *mut TwMarginResult, outcome: u32, initial: Decimal, reason: &str) {
    // SAFETY: the host passes a valid result for the call.
    let out = unsafe { &mut *out };
    out.outcome = outcome;
    out.initial = dec(initial);
    out.maintenance = dec(initial);
    // SAFETY: the host's writer with its own user pointer.
    unsafe { (out.write_reason.unwrap())(out.reason_user, reason.as_ptr(), reason.len()) };
}

unsafe extern "C" fn seen(input: *const TwMarginInput, out: *mut TwMarginResult) -> TwStatus {
    // SAFETY: the host's input, valid for the call, `leg_count` legs `leg_size` apart.
    let input = unsafe { &*input };
    let mut lines = Vec::new();
    for i in 0..input.leg_count {
        // SAFETY: as above.
        let leg = unsafe {
            &*input
                .legs
                .cast::<u8>()
                .add(i * input.leg_size as usize)
                .cast::<TwMarginLeg>()
        };
        // SAFETY: the symbol is valid for the call.
        let symbol = unsafe { std::slice::from_raw_parts(leg.symbol.ptr, leg.symbol.len) };
        lines.push(format!(
            "{} kind {} right {} expiry {} qty {} price {} strike {} x{} u{}",
            String::from_utf8_lossy(symbol),
            leg.kind,
            leg.right,
            leg.expiry_yyyymmdd,
            Decimal::deserialize(leg.quantity.bytes),
            Decimal::deserialize(leg.price.bytes),
            Decimal::deserialize(leg.strike.bytes),
            Decimal::deserialize(leg.multiplier.bytes),
            Decimal::deserialize(leg.underlying_price.bytes),
        ));
    }
    lines.push(format!(
        "so far {} / {}, equity flag {}",
        Decimal::deserialize(input.initial.bytes),
        Decimal::deserialize(input.maintenance.bytes),
        input.flags & TW_MARGIN_HAS_EQUITY
    ));
    *SEEN.lock().unwrap() = lines;
    // SAFETY: the host's result.
    unsafe { answer(out, TW_MARGIN_ADD_ON, Decimal::new(250, 2), "two fifty") };
    TW_OK
}

unsafe extern "C" fn slow(_: *const TwMarginInput, _: *mut TwMarginResult) -> TwStatus {
    std::thread::sleep(Duration::from_millis(400));
    TW_OK
}

unsafe extern "C" fn panicked(_: *const TwMarginInput, _: *mut TwMarginResult) -> TwStatus {
    TW_ERR_PANICKED
}

unsafe extern "C" fn odd_outcome(_: *const TwMarginInput, out: *mut TwMarginResult) -> TwStatus {
    // SAFETY: the host's result.
    unsafe { answer(out, 9, Decimal::ONE, "") };
    TW_OK
}

unsafe extern "C" fn negative(_: *const TwMarginInput, out: *mut TwMarginResult) -> TwStatus {
    // SAFETY: the host's result.
    unsafe { answer(out, TW_MARGIN_ADD_ON, Decimal::NEGATIVE_ONE, "") };
    TW_OK
}

unsafe extern "C" fn to_zero(_: *const TwMarginInput, out: *mut TwMarginResult) -> TwStatus {
    // SAFETY: the host's result.
    unsafe { answer(out, TW_MARGIN_OVERRIDE, Decimal::ZERO, "hedged") };
    TW_OK
}

fn book() -> (Portfolio, MarginResult) {
    let portfolio = parse_portfolio(BOOK).unwrap();
    let builtin = compute(&portfolio, Method::RegT).unwrap();
    (portfolio, builtin)
}

#[test]
fn the_rule_sees_every_leg_and_the_figure_so_far_and_adds_on() {
    let (portfolio, builtin) = book();
    let adapter = PluginRule::new(&rule("seen", seen, false)).unwrap();
    assert_eq!(adapter.name(), "plugin:org.test.seen/seen");
    let outcome = crate::scripting::margin_rule::with_equity(Some(dec!(100000)), || {
        adapter.evaluate(&portfolio, &builtin)
    });
    assert_eq!(
        outcome,
        Ok(RuleOutcome::AddOn {
            initial: dec!(2.50),
            maintenance: dec!(2.50),
            reason: "two fifty".into()
        })
    );
    let seen = SEEN.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "XYZ kind 1 right 0 expiry 0 qty 100 price 600 strike 0 x1 u600".to_owned(),
            "XYZ kind 2 right 2 expiry 20261218 qty -2 price 7.5 strike 590 x100 u600".to_owned(),
            format!(
                "so far {} / {}, equity flag 1",
                builtin.initial, builtin.maintenance
            ),
        ]
    );
}

#[test]
fn failures_are_errors_and_the_engine_keeps_the_baseline() {
    let (portfolio, builtin) = book();
    let panics = PluginRule::new(&rule("panics", panicked, false)).unwrap();
    let odd = PluginRule::new(&rule("odd", odd_outcome, false)).unwrap();
    let neg = PluginRule::new(&rule("neg", negative, false)).unwrap();
    assert_eq!(
        panics.evaluate(&portfolio, &builtin),
        Err("compute returned TW_ERR_PANICKED (the plugin panicked)".into())
    );
    assert_eq!(
        odd.evaluate(&portfolio, &builtin),
        Err("unknown outcome 9".into())
    );
    assert_eq!(
        neg.evaluate(&portfolio, &builtin),
        Err("a negative initial (-1): amounts are not negative".into())
    );
    let rules: Vec<&dyn CustomRule> = vec![&panics, &odd, &neg];
    let result = apply_custom_rules(
        &portfolio,
        builtin.clone(),
        &rules,
        OverridePolicy::OnlyRaise,
    );
    assert_eq!(result.initial, builtin.initial);
    let nodes = &result.groups[result.groups.len() - 3..];
    assert!(
        nodes
            .iter()
            .all(|n| n.rule == "custom rule failed: ignored")
    );
}

#[test]
fn a_rule_that_misses_its_deadline_is_hung_and_not_called_again() {
    let (portfolio, builtin) = book();
    let adapter =
        PluginRule::with_deadline(&rule("slow", slow, false), Duration::from_millis(50)).unwrap();
    let started = std::time::Instant::now();
    let first = adapter.evaluate(&portfolio, &builtin).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "the caller is not held"
    );
    assert_eq!(
        first,
        "no answer within 50 ms: marked hung, not called again until Tickwork restarts"
    );
    assert!(adapter.is_hung());
    let again = std::time::Instant::now();
    let second = adapter.evaluate(&portfolio, &builtin).unwrap_err();
    assert!(second.starts_with("hung earlier"), "{second}");
    assert!(again.elapsed() < Duration::from_millis(20));
}

#[test]
fn lowering_needs_the_override_grant_and_the_users_setting() {
    let (portfolio, builtin) = book();
    let without = PluginRule::new(&rule("nogrant", to_zero, false)).unwrap();
    let with = PluginRule::new(&rule("grant", to_zero, true)).unwrap();
    let apply = |rule: &PluginRule, policy| {
        apply_custom_rules(
            &portfolio,
            builtin.clone(),
            &[rule as &dyn CustomRule],
            policy,
        )
        .initial
    };
    // Without the grant, not even the user's setting lets it lower the figure.
    assert_eq!(
        apply(&without, OverridePolicy::AllowLowering),
        builtin.initial
    );
    let Ok(RuleOutcome::Override { reason, .. }) = without.evaluate(&portfolio, &builtin) else {
        panic!("an override")
    };
    assert!(reason.contains("not lowered: the plugin has no margin override permission"));
    // With the grant, the user's setting decides.
    assert_eq!(apply(&with, OverridePolicy::OnlyRaise), builtin.initial);
    assert_eq!(apply(&with, OverridePolicy::AllowLowering), Decimal::ZERO);
}

#[sqlx::test(migrations = "../../migrations")]
async fn registered_rules_count_wherever_margin_rules_load_while_enabled(pool: PgPool) {
    let loaded = rule("registered", seen, false);
    register(&loaded).unwrap();
    assert!(
        registered()
            .iter()
            .any(|r| r.name() == "plugin:org.test.registered/registered")
    );
    let (portfolio, builtin) = book();
    let names = |rules: crate::risk::margin::MarginRules| {
        let result = rules.apply(&portfolio, builtin.clone(), None);
        result
            .groups
            .iter()
            .map(|g| g.label.clone())
            .collect::<Vec<_>>()
    };
    let label = "custom rule plugin:org.test.registered/registered".to_owned();
    let loader = crate::scripting::margin_rule::MarginRuleLoader::default();
    // Not in this database's allowlist: it does not apply.
    assert!(!names(crate::scripting::load_margin_rules(&pool).await.unwrap()).contains(&label));
    store::trust(&pool, "org.test.registered", "1.0", &"a".repeat(64), &[])
        .await
        .unwrap();
    assert!(names(crate::scripting::load_margin_rules(&pool).await.unwrap()).contains(&label));
    assert!(names(loader.load(&pool).await.unwrap()).contains(&label));
    store::set_enabled(&pool, "org.test.registered", false, Some("test"))
        .await
        .unwrap();
    assert!(!names(loader.load(&pool).await.unwrap()).contains(&label));
}

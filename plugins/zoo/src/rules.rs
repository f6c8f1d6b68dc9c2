//! The zoo's init hook, strategy and margin rule, each misbehaving in its own modes.

use tickwork_plugin_api::abi::TW_LOG_ERROR;
use tickwork_plugin_api::rust_decimal::Decimal;
use tickwork_plugin_api::sdk::{
    Event, MarginInput, MarginOutcome, MarginRule, MarketData, OrderRequest, PluginHost, Strategy,
    StrategyCtx,
};

use crate::mode::{self, Mode};

/// `init`: refuses an unknown mode; panics or aborts in their modes.
pub(crate) fn init(host: &PluginHost) -> Result<(), String> {
    match mode::current() {
        Err(raw) => {
            let names: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
            let msg = format!(
                "TICKWORK_ZOO=`{raw}` is not a zoo mode (one of: {})",
                names.join(", ")
            );
            host.log(TW_LOG_ERROR, &msg);
            Err(msg)
        }
        Ok(Mode::PanicInit) => panic!("zoo: panic in init, as asked"),
        Ok(Mode::Abort) => std::process::abort(),
        Ok(_) => Ok(()),
    }
}

/// Subscribes to `symbol` and buys 1 on the first bar or tick.
pub(crate) struct ZooStrategy {
    instrument: u32,
    bought: bool,
}

impl Strategy for ZooStrategy {
    const TYPE_ID: &'static str = "org.tickwork.zoo.strategy";

    fn create(ctx: &mut StrategyCtx, params_json: &str) -> Result<Self, String> {
        if mode::is(Mode::PanicCreate) {
            panic!("zoo: panic in create, as asked");
        }
        let params: serde_json::Value =
            serde_json::from_str(params_json).map_err(|e| format!("params: {e}"))?;
        let symbol = params
            .get("symbol")
            .and_then(|s| s.as_str())
            .ok_or("params: `symbol` (a string) is required")?;
        let instrument = ctx
            .subscribe(symbol, MarketData::ticks_and_bars(60))
            .map_err(|e| e.to_string())?;
        Ok(Self {
            instrument,
            bought: false,
        })
    }

    fn on_event(&mut self, ctx: &mut StrategyCtx, event: &Event<'_>) -> Result<(), String> {
        match mode::current() {
            Ok(Mode::PanicOnEvent) => panic!("zoo: panic in on_event, as asked"),
            Ok(Mode::BusyLoop) => loop {
                std::hint::spin_loop();
            },
            Ok(Mode::Segfault) => {
                // SAFETY: none; this mode exists to crash the process on purpose.
                unsafe { core::ptr::null_mut::<u8>().write_volatile(1) };
            }
            _ => {}
        }
        if matches!(event, Event::Bar(_) | Event::Tick(_)) && !self.bought {
            self.bought = true;
            let order = OrderRequest::buy(self.instrument, Decimal::ONE).tag("zoo");
            match ctx.submit(&order) {
                Ok(id) => ctx.info(&format!("zoo: submitted intent {id}")),
                Err(e) => ctx.warn(&format!("zoo: submit failed: {e}")),
            }
        }
        Ok(())
    }

    fn on_destroy(&mut self, ctx: &mut StrategyCtx) {
        if mode::is(Mode::PanicDestroy) {
            panic!("zoo: panic in destroy, as asked");
        }
        let _ = ctx.unsubscribe(self.instrument);
    }
}

/// Adds 1.00 to both requirements.
pub(crate) struct ZooMargin;

impl MarginRule for ZooMargin {
    const RULE_ID: &'static str = "org.tickwork.zoo.margin";

    fn compute(_input: &MarginInput) -> Result<MarginOutcome, String> {
        if mode::is(Mode::PanicCompute) {
            panic!("zoo: panic in compute, as asked");
        }
        Ok(MarginOutcome::AddOn {
            initial: Decimal::new(100, 2),
            maintenance: Decimal::new(100, 2),
            reason: "zoo: 1.00 on top".to_owned(),
        })
    }
}

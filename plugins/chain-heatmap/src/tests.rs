//! The panel against the SDK's fake host, under GTK (the test command runs it under Xvfb).
//! One test function: GTK belongs to the thread that initialised it.

use rust_decimal_macros::dec;
use tickwork_plugin_api::abi::TW_OK;
use tickwork_plugin_api::sdk::testing::{FakeHost, FakePanel, FakePermissions};
use tickwork_plugin_api::sdk::{Event, Tick};

use super::*;
use crate::chain::Metric;

/// 2026-12-03 00:00 UTC.
const DEC_3: i64 = 1_796_256_000_000_000_000;

fn find<T: IsA<gtk::Widget>>(root: &gtk::Widget) -> Option<T> {
    let mut stack = vec![root.clone()];
    while let Some(w) = stack.pop() {
        if let Ok(found) = w.clone().downcast::<T>() {
            return Some(found);
        }
        let mut child = w.first_child();
        while let Some(c) = child {
            child = c.next_sibling();
            stack.push(c);
        }
    }
    None
}

fn text_at(grid: &gtk::Grid, col: i32, row: i32) -> String {
    grid.child_at(col, row)
        .and_downcast::<gtk::Label>()
        .map(|l| l.text().to_string())
        .unwrap_or_default()
}

fn tick(id: u32, bid: rust_decimal::Decimal, ask: rust_decimal::Decimal) -> Event<'static> {
    Event::Tick(Tick {
        instrument_id: id,
        ts_unix_ns: DEC_3,
        bid: Some(bid),
        ask: Some(ask),
        last: None,
        bid_size: None,
        ask_size: None,
        last_size: None,
    })
}

/// Renders the panel in a window; the PNG goes to `TICKWORK_PLUGIN_SCREENSHOTS` when set.
fn render(panel: &FakePanel<'_>) -> (i32, i32) {
    let window = gtk::Window::new();
    window.set_default_size(760, 420);
    window.set_child(Some(&panel.widget));
    window.present();
    let ctx = gtk::glib::MainContext::default();
    for _ in 0..200 {
        ctx.iteration(false);
        if panel.widget.width() > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    for _ in 0..20 {
        ctx.iteration(false);
    }
    let (w, h) = (window.width(), window.height());
    if let Some(dir) = std::env::var_os("TICKWORK_PLUGIN_SCREENSHOTS") {
        let paintable = gtk::WidgetPaintable::new(Some(&window));
        let snapshot = gtk::Snapshot::new();
        paintable.snapshot(&snapshot, f64::from(w), f64::from(h));
        let node = snapshot.to_node().expect("the window drew something");
        let renderer = window
            .native()
            .and_then(|n| n.renderer())
            .expect("a renderer");
        let path = std::path::Path::new(&dir).join("plugin-chain-heatmap.png");
        renderer
            .render_texture(&node, None)
            .save_to_png(&path)
            .expect("PNG written");
    }
    window.set_child(None::<&gtk::Widget>);
    window.destroy();
    (w, h)
}

#[test]
fn the_heat_map_fills_in_from_quotes_and_recolours() {
    gtk::init().expect("GTK initialises (run under Xvfb)");

    // Without the market-data grant: an empty state saying why.
    let denied = FakeHost::with_permissions(FakePermissions {
        market_data: false,
        ..FakePermissions::default()
    });
    let plugin = denied.load(tickwork_plugin_descriptor()).unwrap();
    let panel = plugin.panel(ChainHeatmap::PANEL_ID).unwrap();
    let empty = find::<gtk::Stack>(&panel.widget)
        .and_then(|s| s.visible_child())
        .and_downcast::<gtk::Label>()
        .unwrap();
    assert!(
        empty.text().starts_with(
            "Cannot show the SPY chain: host service tickwork.host.market-data/1 is not available"
        ),
        "{}",
        empty.text()
    );
    drop(panel);

    let host = FakeHost::new();
    let plugin = host.load(tickwork_plugin_descriptor()).unwrap();
    let mut panel = plugin.panel(ChainHeatmap::PANEL_ID).unwrap();
    let stack = find::<gtk::Stack>(&panel.widget).unwrap();
    assert_eq!(stack.visible_child_name().as_deref(), Some("empty"));
    let spy = host.instrument_id("SPY").unwrap();

    assert_eq!(panel.send(&tick(spy, dec!(601.20), dec!(601.26))), TW_OK);
    assert_eq!(stack.visible_child_name().as_deref(), Some("chain"));
    let subs = host.subscriptions();
    assert_eq!(
        subs.len(),
        1 + 22,
        "the underlying and 11 strikes × call and put"
    );
    assert!(subs.iter().any(|s| s.symbol == "SPY 20261218 C 600"));
    assert!(subs.iter().any(|s| s.symbol == "SPY 20261218 P 550"));
    let header = panel
        .widget
        .first_child()
        .and_then(|bar| bar.first_child())
        .and_downcast::<gtk::Label>()
        .unwrap();
    assert_eq!(header.text(), "SPY 601.23 · expiry 2026-12-18");

    let grid = find::<gtk::Grid>(&panel.widget).unwrap();
    assert_eq!(text_at(&grid, 3, 6), "600", "strike 600 is the middle row");
    assert_eq!(text_at(&grid, 0, 6), "—", "no quote yet");
    let call_600 = host.instrument_id("SPY 20261218 C 600").unwrap();
    assert_eq!(panel.send(&tick(call_600, dec!(12.30), dec!(12.50))), TW_OK);
    assert_eq!(
        [
            text_at(&grid, 0, 6),
            text_at(&grid, 1, 6),
            text_at(&grid, 2, 6)
        ],
        ["12.30", "12.50", "1.61"]
    );
    assert_eq!(text_at(&grid, 4, 6), "—", "the put has no quote");
    let class = |level| format!("org-tickwork-example-chain-heatmap-{level}");
    let cell = grid.child_at(0, 6).unwrap();
    assert!(cell.has_css_class(&class("spread-1")));

    let dropdown = find::<gtk::DropDown>(&panel.widget).unwrap();
    dropdown.set_selected(1);
    assert_eq!(text_at(&grid, 2, 0), "Call chg %");
    assert_eq!(text_at(&grid, 2, 6), "0.00");
    assert!(cell.has_css_class(&class("change-2")) && !cell.has_css_class(&class("spread-1")));
    assert_eq!(panel.send(&tick(call_600, dec!(13.00), dec!(13.20))), TW_OK);
    assert_eq!(text_at(&grid, 2, 6), "5.65");
    assert!(cell.has_css_class(&class("change-4")));

    // Quotes for the rest of the chain (a smile of spreads), then back to the spread colours.
    for (i, strike) in (550..=650).step_by(10).enumerate() {
        for (right, intrinsic) in [("C", 600 - strike), ("P", strike - 600)] {
            let symbol = format!("SPY 20261218 {right} {strike}");
            if symbol == "SPY 20261218 C 600" {
                continue;
            }
            let id = host.instrument_id(&symbol).unwrap();
            let mid = rust_decimal::Decimal::from(intrinsic.max(0)) + dec!(6.5)
                - rust_decimal::Decimal::from(i as i64 - 5).abs() / dec!(2);
            let half = dec!(0.03) * rust_decimal::Decimal::from((i as i64 - 5).abs() + 1);
            assert_eq!(panel.send(&tick(id, mid - half, mid + half)), TW_OK);
        }
    }
    dropdown.set_selected(0);
    assert_eq!(text_at(&grid, 2, 0), "Call spread %");
    let (w, h) = render(&panel);
    assert!(w > 0 && h > 0, "the panel rendered ({w}x{h})");
    drop(panel);
    assert!(
        host.subscriptions().iter().all(|s| !s.active),
        "destroy unsubscribed everything"
    );

    // Accessible names name the option and what the number is.
    let chain = Chain {
        underlying: "SPY".into(),
        expiry: chrono::NaiveDate::from_ymd_opt(2026, 12, 18).unwrap(),
        rows: vec![Row {
            strike: dec!(600),
            call_id: Some(2),
            put_id: None,
            call: Quote::default(),
            put: Quote::default(),
        }],
    };
    let row = &chain.rows[0];
    assert_eq!(
        view::cell_name(&chain, row, Side::Call, "bid", "12.30"),
        "SPY 20261218 C 600 bid 12.30"
    );
    assert_eq!(
        view::cell_name(&chain, row, Side::Put, "ask", "n/a"),
        "SPY 20261218 P 600 ask: not available"
    );
    assert_eq!(Metric::Change.label(), "Change since panel opened");
}

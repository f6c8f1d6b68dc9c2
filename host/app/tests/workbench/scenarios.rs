//! The scenarios, each a trader's task from start to finish.

use adw::prelude::*;
use tickwork::gui::panels::PanelRegistry;

use crate::driver::{self, Step};
use crate::world::World;

/// A scenario's run number `phase` (each phase is a new process: a restart).
type Scenario = fn(&mut World, usize) -> Step;

/// Name, number of phases, and the scenario.
pub const ALL: &[(&str, usize, Scenario)] = &[
    (
        "demo_opens_with_live_prices",
        1,
        demo_opens_with_live_prices,
    ),
    ("layout_survives_a_restart", 2, layout_survives_a_restart),
    (
        "screen_reader_sees_every_control_named",
        1,
        screen_reader_sees_every_control_named,
    ),
];

/// The tab view and page showing a panel, by provider id.
fn page_of(provider: &str) -> Option<(adw::TabView, adw::TabPage)> {
    let title = PanelRegistry::builtin()
        .get(provider)
        .map_or_else(|| format!("{provider} (unavailable)"), |p| p.title.clone());
    driver::all_widgets()
        .into_iter()
        .filter_map(|w| w.downcast::<adw::TabView>().ok())
        .find_map(|view| {
            (0..view.n_pages())
                .map(|i| view.nth_page(i))
                .find(|p| p.title() == title)
                .map(|p| (view.clone(), p))
        })
}

/// Waits until the demo session is live (its saved layout has been restored by then).
async fn live_demo() -> Step {
    driver::wait("the demo session to be live", 60, || {
        driver::window_text()
            .contains("Live · built-in simulator")
            .then_some(())
    })
    .await
}

/// The watchlist row of `symbol` with a live last price.
fn live_last(symbol: &str) -> Option<Vec<String>> {
    driver::table_rows("watchlist-view")
        .into_iter()
        .find(|row| row.first().is_some_and(|s| s == symbol))
        .filter(|row| row.get(3).is_some_and(|last| last.parse::<f64>().is_ok()))
}

fn demo_opens_with_live_prices(world: &mut World, _: usize) -> Step {
    world.run_window(true, None, async {
        live_demo().await?;
        let row = driver::wait("a live AAPL price in the watchlist", 30, || {
            live_last("AAPL")
        })
        .await?;
        println!("watchlist AAPL row: {row:?}");
        driver::screenshot("workbench-demo").await?;
        Ok(())
    })
}

fn layout_survives_a_restart(world: &mut World, phase: usize) -> Step {
    if phase == 0 {
        return close_the_audit_panel(world);
    }
    world.run_window(true, None, async {
        driver::wait("the restored layout", 60, || page_of("orders")).await?;
        // Give a wrongly restored default layout the time to appear before judging.
        driver::sleep(1000).await;
        if page_of("audit").is_some() {
            return Err("the audit panel came back after the restart".into());
        }
        for provider in ["watchlist", "chart", "ticket", "positions"] {
            if page_of(provider).is_none() {
                return Err(format!("{provider} is missing after the restart"));
            }
        }
        driver::screenshot("workbench-restored-layout").await
    })
}

fn close_the_audit_panel(world: &mut World) -> Step {
    world.run_window(true, None, async {
        live_demo().await?;
        let (view, page) = driver::wait("the audit panel in the default layout", 60, || {
            page_of("audit")
        })
        .await?;
        view.close_page(&page);
        // Saved after a short delay, and again when the window closes.
        driver::sleep(1500).await;
        Ok(())
    })?;
    let saved: Option<String> = world.runtime.block_on(async {
        sqlx::query_scalar("SELECT value::text FROM settings WHERE key = 'workbench.layout.demo'")
            .fetch_optional(&world.pool)
            .await
            .map_err(|e| e.to_string())
    })?;
    let saved = saved.ok_or("no layout was saved for the demo profile")?;
    if saved.contains("\"audit\"") {
        return Err(format!(
            "the closed panel is still in the saved layout: {saved}"
        ));
    }
    Ok(())
}

/// Reads the window's accessibility tree over AT-SPI from another process, as a screen reader
/// does: every showing control must have a name.
fn screen_reader_sees_every_control_named(world: &mut World, _: usize) -> Step {
    world.run_window(true, None, async {
        live_demo().await?;
        driver::sleep(1500).await;
        let (code, complaint, tree) = crate::observe::accessibility_tree().await?;
        let _ = std::fs::write(driver::screenshot_dir().join("a11y-tree.txt"), &tree);
        if code != 0 {
            return Err(format!(
                "{complaint} (tree in target/screenshots/a11y-tree.txt)"
            ));
        }
        for expected in ["Kill Switch", "Arm…"] {
            if !tree
                .lines()
                .any(|l| l.starts_with("push button\t") && l.contains(expected))
            {
                return Err(format!(
                    "no button named {expected} in the accessibility tree"
                ));
            }
        }
        Ok(())
    })
}

//! The Plugins panel and a plugin's own panel, in-process under Xvfb on a real PostgreSQL
//! database: the example heat-map plugin and the test zoo are built, packed into bundles with
//! `tickwork plugins pack` and found on a private search path; the panel lists them untrusted,
//! trusting one asks first (listing its permissions) and records it; the trusted bundle is
//! loaded as the window loads plugins and its panel renders a live option chain from the
//! quotes the window hands it. A zoo panel whose `create` panics shows why in its tab instead.
//! Screenshots go to `target/screenshots/`. (One test: GTK lives on one thread per process.)

mod common;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use adw::prelude::*;
use common::TestDatabase;
use rust_decimal::Decimal;
use tickwork::gui::boundary::{
    Command, Commands, MarketCommand, MarketEvent, Notification, PluginsEvent,
};
use tickwork::gui::panels::plugin_panel::{self, PanelServices};
use tickwork::gui::panels::plugins::PluginsPanel;
use tickwork::gui::panels::{Panel, PanelContext, PanelEvent, PanelRegistry, Shared};
use tickwork::gui::plugin_jobs;
use tickwork_core::domain::{Instrument, Quote};
use tickwork_core::plugins::{self, PluginEnv, PluginReport, PluginStatus};
use tickwork_core::scripting::strategy::symbols;

const HEATMAP: &str = "org.tickwork.example.chain-heatmap";
const ZOO: &str = "org.tickwork.zoo";

fn require_display() {
    assert!(
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
        "GUI tests need a display: run them through dev/test.sh (Xvfb)"
    );
}

fn find(widget: &gtk::Widget, name: &str) -> Option<gtk::Widget> {
    if widget.widget_name() == name {
        return Some(widget.clone());
    }
    let mut child = widget.first_child();
    while let Some(c) = child {
        if let Some(found) = find(&c, name) {
            return Some(found);
        }
        child = c.next_sibling();
    }
    None
}

/// The text of every label shown under `widget`, in tree order.
fn texts(widget: &gtk::Widget) -> Vec<String> {
    let mut out = Vec::new();
    // Hidden, or a stack page not shown.
    if !widget.is_visible() || !widget.is_child_visible() {
        return out;
    }
    if let Some(label) = widget.downcast_ref::<gtk::Label>() {
        out.push(label.text().to_string());
    }
    let mut child = widget.first_child();
    while let Some(c) = child {
        out.extend(texts(&c));
        child = c.next_sibling();
    }
    out
}

fn pump(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    let context = gtk::glib::MainContext::default();
    loop {
        while context.iteration(false) {}
        if done() {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn shoot(window: &gtk::Window, name: &str) -> PathBuf {
    // Drawn at least once before it is read back.
    pump(Duration::from_millis(400), || false);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/screenshots")
        .join(name);
    tickwork::gui::screenshot::save_png(window, &path).unwrap();
    path
}

fn bundle(bundles: &Path, crate_dir: &str, package: &str, file: &str) -> PathBuf {
    let library = common::plugin_library(package, file);
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins")
        .join(crate_dir)
        .join("plugin.toml");
    let out = bundles.join(crate_dir);
    common::pack_bundle(&manifest, &library, &out);
    out
}

/// The Plugins panel with a backend answering its commands as the window's does.
struct Harness {
    panel: PluginsPanel,
    root: gtk::Widget,
    rx: tokio::sync::mpsc::UnboundedReceiver<Command>,
    runtime: tokio::runtime::Runtime,
    env: PluginEnv,
    pool: sqlx::PgPool,
    toasts: Rc<RefCell<Vec<String>>>,
    listed: Vec<PluginReport>,
}

impl Harness {
    fn serve(&mut self) {
        while let Ok(command) = self.rx.try_recv() {
            let Command::Plugins(command) = command else {
                continue;
            };
            let told =
                self.runtime
                    .block_on(plugin_jobs::answer(&self.env, self.pool.clone(), command));
            for notification in told {
                if let Notification::Plugins(PluginsEvent::Listed { reports, .. }) = &notification {
                    self.listed = reports.clone();
                }
                self.panel.event(&PanelEvent::Backend(notification));
            }
        }
    }

    fn pump_until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) -> bool {
        let until = Instant::now() + limit;
        let context = gtk::glib::MainContext::default();
        loop {
            while context.iteration(false) {}
            self.serve();
            if done(self) {
                return true;
            }
            if Instant::now() > until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn status(&self, id: &str) -> Option<PluginStatus> {
        self.listed
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.status.clone())
    }
}

fn quote(id: i64, bid: &str, ask: &str) -> Quote {
    Quote {
        instrument_id: id,
        bid: Some(bid.parse().unwrap()),
        ask: Some(ask.parse().unwrap()),
        bid_size: Some(Decimal::from(10)),
        ask_size: Some(Decimal::from(12)),
        updated_at: Some("2026-12-03T15:00:00Z".parse().unwrap()),
        ..Quote::default()
    }
}

#[test]
fn plugins_panel_trusts_and_a_plugin_panel_renders() {
    require_display();
    gtk::init().unwrap();
    adw::init().unwrap();
    assert!(
        PanelRegistry::builtin().get("plugins").is_some(),
        "the Plugins panel is in the sidebar"
    );

    let db = TestDatabase::create("panel_plugins");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let pool = runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&db.url()).await.unwrap();
        tickwork_core::store::MIGRATOR.run(&pool).await.unwrap();
        pool
    });
    let home = tempfile::tempdir().unwrap();
    let bundles = home.path().join("bundles");
    let heatmap_dir = bundle(
        &bundles,
        "chain-heatmap",
        "tickwork-example-chain-heatmap",
        "libtickwork_example_chain_heatmap.so",
    );
    bundle(
        &bundles,
        "zoo",
        "tickwork-plugin-zoo",
        "libtickwork_plugin_zoo.so",
    );
    let env = PluginEnv {
        search_path: vec![bundles.clone()],
        cache_dir: home.path().join("cache"),
        journal_dir: home.path().join("journal"),
        gtk_minor: Some(gtk::minor_version()),
    };

    // The Plugins panel: both bundles found, neither trusted.
    let (commands, rx) = Commands::channel();
    let shared = Rc::new(RefCell::new(Shared::default()));
    let toasts: Rc<RefCell<Vec<String>>> = Rc::default();
    let into = toasts.clone();
    let ctx = PanelContext::new(
        commands.clone(),
        shared.clone(),
        Rc::new(move |request| {
            if let tickwork::gui::panels::WindowRequest::Toast(text) = request {
                into.borrow_mut().push(text);
            }
        }),
        None,
    );
    let panel = PluginsPanel::new(ctx);
    let root = panel.widget();
    let mut h = Harness {
        panel,
        root,
        rx,
        runtime,
        env: env.clone(),
        pool: pool.clone(),
        toasts,
        listed: Vec::new(),
    };
    let window = gtk::Window::builder()
        .default_width(1100)
        .default_height(800)
        .child(&h.root)
        .build();
    window.present();
    assert!(h.pump_until(Duration::from_secs(10), |h| h.listed.len() == 2));
    assert!(
        matches!(h.status(HEATMAP), Some(PluginStatus::Untrusted(_))),
        "{:?}",
        h.status(HEATMAP)
    );
    assert!(matches!(h.status(ZOO), Some(PluginStatus::Untrusted(_))));
    let shown = texts(&h.root).join("\n");
    assert!(
        shown.contains(HEATMAP) && shown.contains("Untrusted"),
        "{shown}"
    );
    assert!(
        shown.contains("market_data:subscribe"),
        "asked permissions shown: {shown}"
    );
    shoot(&window, "plugins_panel_untrusted.png");

    // Trust the heat map: a confirmation names the permissions; only "Trust" records it.
    let trust = find(&h.root, &format!("plugin-trust-{HEATMAP}"))
        .expect("a Trust button for the untrusted heat map")
        .downcast::<gtk::Button>()
        .unwrap();
    trust.emit_clicked();
    let dialog = gtk::Window::list_toplevels()
        .into_iter()
        .find(|w| w.widget_name() == "confirm-trust")
        .expect("trusting asks first")
        .downcast::<adw::MessageDialog>()
        .unwrap();
    let body = dialog.body().to_string();
    assert!(body.contains("market_data:subscribe"), "{body}");
    assert!(
        body.contains(&h.listed[0].sha256.clone().unwrap_or_default())
            || body.contains(&h.listed[1].sha256.clone().unwrap_or_default()),
        "the library hash is shown: {body}"
    );
    dialog.response("trust");
    assert!(h.pump_until(Duration::from_secs(10), |h| {
        h.status(HEATMAP) == Some(PluginStatus::Trusted)
    }));
    assert!(
        h.toasts.borrow().iter().any(|t| t.contains("is trusted")),
        "{:?}",
        h.toasts.borrow()
    );
    assert!(matches!(h.status(ZOO), Some(PluginStatus::Untrusted(_))));
    shoot(&window, "plugins_panel.png");

    // The window loads the trusted bundle on the main thread; its panel gets a tab.
    let mut reports = h.runtime.block_on(plugins::scan(&pool, &env)).unwrap();
    plugins::load_eligible(&env, &mut reports);
    let heatmap_report = reports.iter().find(|r| r.id == HEATMAP).unwrap();
    assert_eq!(heatmap_report.status, PluginStatus::Loaded);
    let loaded = plugins::registry::loaded();
    let heatmap = loaded
        .iter()
        .find(|p| p.provider.plugin_id == HEATMAP)
        .expect("the heat map is loaded");
    assert_eq!(heatmap.panels.len(), 1);
    let services = PanelServices {
        pool: pool.clone(),
        runtime: h.runtime.handle().clone(),
    };
    let provider = plugin_panel::provider(heatmap.panels[0].clone(), services.clone());
    assert_eq!(provider.id, format!("plugin.{HEATMAP}"));
    let (panel_commands, mut panel_rx) = Commands::channel();
    let panel_ctx = PanelContext::new(panel_commands, shared.clone(), Rc::new(|_| {}), None);
    let view = (provider.build)(panel_ctx);
    let panel_window = gtk::Window::builder()
        .default_width(1000)
        .default_height(760)
        .child(&view.widget())
        .build();
    panel_window.present();
    pump(Duration::from_millis(300), || false);

    // The window watches what the panel subscribes to and hands it quotes.
    let mut next_id = 1i64;
    let mut watched: Vec<(i64, String)> = Vec::new();
    let mut answer_watches = |view: &dyn Panel, watched: &mut Vec<(i64, String)>| {
        while let Ok(command) = panel_rx.try_recv() {
            if let Command::Market(MarketCommand::Watch { spec }) = command {
                let instrument = Instrument { id: next_id, spec };
                next_id += 1;
                watched.push((instrument.id, symbols::symbol_of(&instrument.spec)));
                shared
                    .borrow_mut()
                    .instruments
                    .insert(instrument.id, instrument.clone());
                view.event(&PanelEvent::Backend(Notification::Market(
                    MarketEvent::Watching(instrument),
                )));
            }
        }
    };
    view.quotes(&[]);
    answer_watches(view.as_ref(), &mut watched);
    assert_eq!(
        watched.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
        ["SPY"],
        "the heat map subscribes to its underlying first"
    );
    view.quotes(&[quote(watched[0].0, "599.90", "600.10")]);
    answer_watches(view.as_ref(), &mut watched);
    assert!(
        watched.len() > 5,
        "at the first SPY quote it subscribes to the chain: {watched:?}"
    );
    let options: Vec<Quote> = watched
        .iter()
        .skip(1)
        .enumerate()
        .map(|(i, (id, _))| {
            let bid = Decimal::from(5) + Decimal::from(i as i64) / Decimal::from(4);
            quote(
                *id,
                &bid.to_string(),
                &(bid + Decimal::new(5 + i as i64 % 7 * 5, 2)).to_string(),
            )
        })
        .collect();
    view.quotes(&options);
    pump(Duration::from_millis(500), || false);
    let shown = texts(&view.widget());
    assert!(
        shown.iter().any(|t| t == "5.00"),
        "the first option's bid is shown: {shown:?}"
    );
    assert!(
        !shown.iter().any(|t| t.starts_with("Waiting for")),
        "the empty state is gone: {shown:?}"
    );
    assert!(
        find(&view.widget(), "plugin-panel-status").is_some_and(|s| !s.is_visible()),
        "no fault shown"
    );
    shoot(&panel_window, "plugin_panel_heatmap.png");
    drop(view);
    panel_window.close();
    assert!(heatmap_dir.is_dir());

    // A panel whose `create` panics: contained by the plugin's guard, shown in its tab.
    // SAFETY: set before the zoo's entry is first called; nothing else reads it concurrently.
    unsafe { std::env::set_var("TICKWORK_ZOO", "panic-panel-create") };
    h.runtime
        .block_on(tickwork_core::plugins::grant::trust_bundle(
            &pool,
            &bundles.join("zoo"),
            env.gtk_minor,
            "test",
        ))
        .unwrap();
    let mut reports = h.runtime.block_on(plugins::scan(&pool, &env)).unwrap();
    plugins::load_eligible(&env, &mut reports);
    let zoo = plugins::registry::loaded()
        .into_iter()
        .find(|p| p.provider.plugin_id == ZOO)
        .expect("the zoo loads (only its panel misbehaves)");
    let provider = plugin_panel::provider(zoo.panels[0].clone(), services);
    let (zoo_commands, _zoo_rx) = Commands::channel();
    let zoo_view = (provider.build)(PanelContext::new(
        zoo_commands,
        shared.clone(),
        Rc::new(|_| {}),
        None,
    ));
    let shown = texts(&zoo_view.widget()).join("\n");
    assert!(
        shown.contains("could not be built") && shown.contains(ZOO),
        "{shown}"
    );
    let zoo_window = gtk::Window::builder()
        .default_width(700)
        .default_height(400)
        .child(&zoo_view.widget())
        .build();
    zoo_window.present();
    pump(Duration::from_millis(300), || false);
    shoot(&zoo_window, "plugin_panel_failed.png");
    drop(commands);
}

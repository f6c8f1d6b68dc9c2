//! The margin, connection and audit panels built in-process under Xvfb, driven by the
//! notifications the backend would send, read back through their widget names, and captured
//! under `target/screenshots/`. (One test: GTK lives on one thread per process.)

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use adw::prelude::*;
use chrono::Utc;
use rust_decimal::Decimal;
use tickwork::gui::boundary::{
    Command, Commands, MarginCommand, MarginEvent, Notification, RecordsCommand, RecordsEvent,
};
use tickwork::gui::panels::{PanelContext, PanelEvent, PanelRegistry, Shared, WindowRequest};
use tickwork_core::session::{LineStatus, PacingStatus, SyncReport};
use tickwork_core::store::audit::{AuditFacets, AuditRecord};
use tickwork_core::store::sync_reports::SyncReportRow;

fn require_display() {
    assert!(
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
        "GUI tests need a display: run them through dev/test.sh (Xvfb)"
    );
}

fn pump(for_at_least: Duration) {
    let until = Instant::now() + for_at_least;
    let context = gtk::glib::MainContext::default();
    while Instant::now() < until {
        while context.iteration(false) {}
        std::thread::sleep(Duration::from_millis(10));
    }
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

fn named<T: IsA<gtk::Widget>>(root: &gtk::Widget, name: &str) -> T {
    find(root, name)
        .unwrap_or_else(|| panic!("no widget named {name}"))
        .downcast()
        .unwrap_or_else(|_| panic!("{name} has another type"))
}

fn shoot(window: &gtk::Window, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let paintable = gtk::WidgetPaintable::new(Some(window));
    let snapshot = gtk::Snapshot::new();
    let (w, h) = (window.width(), window.height());
    paintable.snapshot(&snapshot, f64::from(w), f64::from(h));
    let node = snapshot.to_node().expect("the window drew something");
    let renderer = window.native().unwrap().renderer().unwrap();
    renderer
        .render_texture(&node, None)
        .save_to_png(dir.join(name))
        .unwrap();
}

struct Harness {
    rx: tokio::sync::mpsc::UnboundedReceiver<Command>,
    requests: Rc<RefCell<Vec<WindowRequest>>>,
    ctx: PanelContext,
}

impl Harness {
    fn new() -> Self {
        let (commands, rx) = Commands::channel();
        let shared = Rc::new(RefCell::new(Shared {
            account: Some("DU1".into()),
            ..Shared::default()
        }));
        let requests: Rc<RefCell<Vec<WindowRequest>>> = Rc::default();
        let into = requests.clone();
        let ctx = PanelContext::new(
            commands,
            shared,
            Rc::new(move |r| into.borrow_mut().push(r)),
            None,
        );
        Self { rx, requests, ctx }
    }

    fn sent(&mut self) -> Vec<Command> {
        let mut all = Vec::new();
        while let Ok(c) = self.rx.try_recv() {
            all.push(c);
        }
        all
    }
}

fn window(child: &gtk::Widget) -> gtk::Window {
    let window = gtk::Window::builder()
        .default_width(1000)
        .default_height(640)
        .child(child)
        .build();
    window.present();
    pump(Duration::from_millis(300));
    window
}

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn covered_call() -> tickwork_margin::Portfolio {
    tickwork_margin::parse_portfolio(
        r#"{"as_of": "2026-11-24",
            "underlyings": {"AAPL": {"price": "187.20", "class": "equity"}},
            "positions": [
              {"kind": "stock", "symbol": "AAPL", "qty": 100, "price": "187.20"},
              {"kind": "option", "symbol": "AAPL", "right": "C", "strike": "190",
               "expiry": "2026-12-18", "qty": -1, "price": "4.15"}]}"#,
    )
    .unwrap()
}

#[test]
fn margin_connection_and_audit_panels_draw_what_the_backend_says() {
    require_display();
    gtk::init().unwrap();
    adw::init().unwrap();
    let registry = PanelRegistry::builtin();

    // Margin: the live portfolio of DU1, margined by the engine.
    let mut h = Harness::new();
    let panel = (registry.get("margin").unwrap().build)(h.ctx.clone());
    let root = panel.widget();
    let win = window(&root);
    assert!(
        h.sent().iter().any(|c| matches!(
            c,
            Command::Margin(MarginCommand::LoadLive { account }) if account == "DU1"
        )),
        "the live portfolio is asked for"
    );
    panel.event(&PanelEvent::Backend(Notification::Margin(
        MarginEvent::LivePortfolio {
            account: "DU1".into(),
            portfolio: Box::new(covered_call()),
            equity: Some(d("10000")),
            left_out: vec![],
        },
    )));
    let (request, portfolio, method) = h
        .sent()
        .into_iter()
        .find_map(|c| match c {
            Command::Margin(MarginCommand::Calculate {
                request,
                portfolio,
                method,
            }) => Some((request, portfolio, method)),
            _ => None,
        })
        .expect("a calculation is asked for");
    assert_eq!(*portfolio, covered_call());
    let result = tickwork_margin::compute(&portfolio, method).unwrap();
    panel.event(&PanelEvent::Backend(Notification::Margin(
        MarginEvent::Calculated {
            request,
            result: Ok(Box::new(result)),
        },
    )));
    pump(Duration::from_millis(200));
    let initial: gtk::Label = named(&root, "margin-initial");
    assert_eq!(initial.text(), "4,680.00");
    let excess: gtk::Label = named(&root, "margin-excess");
    assert_eq!(excess.text(), "5,320.00");
    let tree: gtk::ColumnView = named(&root, "margin-tree");
    assert!(
        tree.model().unwrap().n_items() > 0,
        "the explanation is shown"
    );
    let add: gtk::MenuButton = named(&root, "margin-add-leg");
    assert!(!add.is_sensitive(), "the live portfolio is not edited");
    shoot(&win, "panel-margin-live.png");
    // Hypothetical: starts as a copy of the live portfolio, legs can be added.
    named::<gtk::DropDown>(&root, "margin-source").set_selected(1);
    pump(Duration::from_millis(100));
    assert!(add.is_sensitive());
    let legs: gtk::ColumnView = named(&root, "margin-legs");
    assert_eq!(legs.model().unwrap().n_items(), 2);
    assert!(
        h.sent()
            .iter()
            .any(|c| matches!(c, Command::Margin(MarginCommand::Calculate { .. })))
    );
    let saved = panel.saved_state().unwrap();
    assert_eq!(saved["source"], "hypothetical");
    assert_eq!(
        tickwork_margin::parse_portfolio(saved["portfolio"].as_str().unwrap()).unwrap(),
        covered_call()
    );
    // A malformed import says which file and line.
    panel.event(&PanelEvent::Backend(Notification::Margin(
        MarginEvent::Imported {
            path: "/tmp/book.json".into(),
            portfolio: Err("/tmp/book.json: line 3: positions[0].qty: missing".into()),
        },
    )));
    assert!(h.requests.borrow().iter().any(|r| matches!(
        r,
        WindowRequest::Toast(t) if t.contains("line 3")
    )));
    win.close();

    // Connection: lines, pacing, reports.
    let mut h = Harness::new();
    let panel = (registry.get("connection").unwrap().build)(h.ctx.clone());
    let root = panel.widget();
    let win = window(&root);
    let sent = h.sent();
    for wanted in ["Status", "Reports", "Database"] {
        assert!(
            sent.iter()
                .any(|c| matches!(c, Command::Records(r) if format!("{r:?}").starts_with(wanted))),
            "{wanted} asked for: {sent:?}"
        );
    }
    panel.event(&PanelEvent::Backend(Notification::Records(
        RecordsEvent::Status(Some(LineStatus {
            active: 3,
            limit: 100,
            queue: vec![],
            historical: PacingStatus {
                open: 0,
                max_open: 50,
                sent_last_10_min: 4,
                max_per_10_min: 60,
            },
        })),
    )));
    let report = SyncReport {
        accounts: vec!["DU1".into()],
        positions: 2,
        orders_unknown: vec!["tw-9".into()],
        executions_added: 1,
        ..SyncReport::default()
    };
    panel.event(&PanelEvent::Backend(Notification::Records(
        RecordsEvent::Reports(vec![SyncReportRow {
            id: 1,
            at: Utc::now(),
            profile: "demo".into(),
            reason: "connect".into(),
            report: serde_json::to_value(&report).unwrap(),
        }]),
    )));
    pump(Duration::from_millis(200));
    assert_eq!(
        named::<gtk::Label>(&root, "connection-lines").text(),
        "3 of 100 in use"
    );
    assert_eq!(
        named::<gtk::Label>(&root, "connection-state").text(),
        "Disconnected"
    );
    let reports: gtk::ListBox = named(&root, "connection-reports");
    let first = reports.row_at_index(0).unwrap();
    let first = first
        .downcast::<adw::ExpanderRow>()
        .expect("an expandable report");
    assert_eq!(first.subtitle(), "1 orders unknown · 1 executions added");
    first.set_expanded(true);
    pump(Duration::from_millis(200));
    shoot(&win, "panel-connection.png");
    win.close();

    // Audit: the first page for the chosen filter.
    let mut h = Harness::new();
    let panel = (registry.get("audit").unwrap().build)(h.ctx.clone());
    let root = panel.widget();
    let win = window(&root);
    let filter = h
        .sent()
        .into_iter()
        .find_map(|c| match c {
            Command::Records(RecordsCommand::Audit { filter }) => Some(filter),
            _ => None,
        })
        .expect("entries are asked for when shown");
    panel.event(&PanelEvent::Backend(Notification::Records(
        RecordsEvent::AuditFacets(AuditFacets {
            actors: vec!["ui".into(), "script:sma".into()],
            actions: vec!["order.intent".into(), "trading.arm".into()],
            accounts: vec!["DU1".into()],
        }),
    )));
    let entries: Vec<AuditRecord> = (1..=3)
        .rev()
        .map(|id| AuditRecord {
            id,
            at: Utc::now(),
            actor: if id == 2 {
                "script:sma".into()
            } else {
                "ui".into()
            },
            action: "order.intent".into(),
            decision: Some(if id == 2 { "denied" } else { "allowed" }.into()),
            reason: (id == 2).then(|| "max quantity 100 exceeded by 250".into()),
            details: serde_json::json!({"account": "DU1", "symbol": "AAPL", "qty": id * 100}),
        })
        .collect();
    panel.event(&PanelEvent::Backend(Notification::Records(
        RecordsEvent::Audit {
            filter: filter.clone(),
            entries,
        },
    )));
    pump(Duration::from_millis(200));
    let view: gtk::ColumnView = named(&root, "audit-view");
    assert_eq!(view.model().unwrap().n_items(), 3);
    shoot(&win, "panel-audit.png");
    // A filter change asks again with the new origin.
    named::<gtk::DropDown>(&root, "audit-origin").set_selected(2);
    let again = h.sent();
    assert!(again.iter().any(|c| matches!(
        c,
        Command::Records(RecordsCommand::Audit { filter }) if filter.origin.as_deref() == Some("script:*")
    )), "{again:?}");
    win.close();
}

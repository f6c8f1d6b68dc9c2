//! The Scripts panel built in-process under Xvfb, its commands answered exactly as the backend
//! answers them (`tickwork::gui::script_jobs`): an example opened and checked, a syntax error
//! marked at its line, a backtest over a CSV file drawn as statistics, equity curve and trades,
//! and a screenshot under `target/screenshots/`. (One test: GTK lives on one thread per
//! process.)

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use adw::prelude::*;
use tickwork::gui::boundary::{
    Command, Commands, Notification, RunMode, RunStatus, ScriptSummary, ScriptsCommand,
    ScriptsEvent,
};
use tickwork::gui::panels::scripts::ScriptsPanel;
use tickwork::gui::panels::{
    Panel, PanelContext, PanelEvent, PanelRegistry, Shared, WindowRequest,
};
use tickwork::gui::script_jobs;
use tickwork_core::scripting::strategy::ParamValue;
use tickwork_core::store::scripts::ScriptKind;

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

fn named<T: IsA<gtk::Widget>>(root: &gtk::Widget, name: &str) -> T {
    find(root, name)
        .unwrap_or_else(|| panic!("no widget named {name}"))
        .downcast()
        .unwrap_or_else(|_| panic!("{name} has another type"))
}

fn label(root: &gtk::Widget, name: &str) -> String {
    named::<gtk::Label>(root, name).text().to_string()
}

/// The panel, and a backend that answers its script commands the way the real one does.
struct Harness {
    panel: ScriptsPanel,
    root: gtk::Widget,
    rx: tokio::sync::mpsc::UnboundedReceiver<Command>,
    runtime: tokio::runtime::Runtime,
    requests: Rc<RefCell<Vec<WindowRequest>>>,
    sent: Vec<ScriptsCommand>,
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
        let panel = ScriptsPanel::new(ctx);
        let root = panel.widget();
        Self {
            panel,
            root,
            rx,
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap(),
            requests,
            sent: Vec::new(),
        }
    }

    fn tell(&self, event: ScriptsEvent) {
        self.panel
            .event(&PanelEvent::Backend(Notification::Scripts(event)));
    }

    /// Answers what the panel sent so far.
    fn serve(&mut self) {
        while let Ok(command) = self.rx.try_recv() {
            let Command::Scripts(command) = command else {
                continue;
            };
            self.sent.push(command.clone());
            match command {
                ScriptsCommand::Check {
                    request,
                    name,
                    source,
                } => self.tell(ScriptsEvent::Checked {
                    request,
                    result: script_jobs::check(&name, &source),
                }),
                ScriptsCommand::List => self.tell(ScriptsEvent::Listed(Vec::new())),
                ScriptsCommand::Backtest(request) => {
                    let event = self.runtime.block_on(script_jobs::backtest(None, *request));
                    self.tell(event);
                }
                _ => {}
            }
        }
    }

    /// Runs the main loop, answering commands, until `done` or `limit`.
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

    fn pump(&mut self, time: Duration) {
        self.pump_until(time, |_| false);
    }

    fn checks(&self) -> usize {
        self.sent
            .iter()
            .filter(|c| matches!(c, ScriptsCommand::Check { .. }))
            .count()
    }

    fn show_tab(&self, index: u32) {
        self.panel.show_tab(index);
    }

    fn replace_text(&self, text: &str) {
        let buffer = self.panel.buffer();
        let (mut start, mut end) = buffer.bounds();
        buffer.delete(&mut start, &mut end);
        buffer.insert(&mut buffer.start_iter(), text);
    }
}

fn shoot(window: &gtk::Window, name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/screenshots")
        .join(name);
    tickwork::gui::screenshot::save_png(window, &path).unwrap();
    path
}

#[test]
fn scripts_panel_checks_marks_errors_and_backtests() {
    require_display();
    gtk::init().unwrap();
    adw::init().unwrap();
    assert!(
        PanelRegistry::builtin().get("scripts").is_some(),
        "the Scripts panel is in the sidebar"
    );

    let mut h = Harness::new();
    let window = gtk::Window::builder()
        .default_width(1280)
        .default_height(800)
        .child(&h.root)
        .build();
    window.present();
    h.pump(Duration::from_millis(300));
    assert!(
        h.sent.iter().any(|c| matches!(c, ScriptsCommand::List)),
        "the stored scripts are asked for when shown"
    );

    // Open the sma_cross example: checked at once, no error, its parameters in the form.
    h.root
        .activate_action("scripts.open-example", Some(&"sma_cross".to_variant()))
        .unwrap();
    let source = tickwork::gui::panels::scripts::example("sma_cross").unwrap();
    assert!(h.pump_until(Duration::from_secs(5), |h| {
        label(&h.root, "scripts-message").starts_with("No errors")
    }));
    assert_eq!(
        label(&h.root, "scripts-message"),
        "No errors · hooks: on_start, on_bar, on_fill"
    );
    assert_eq!(
        named::<gtk::Entry>(&h.root, "scripts-name").text(),
        "sma_cross"
    );
    assert_eq!(
        named::<gtk::Entry>(&h.root, "scripts-param-fast").text(),
        "10"
    );
    assert_eq!(
        named::<gtk::Entry>(&h.root, "scripts-param-slow").text(),
        "30"
    );
    assert!(
        find(&h.root, "scripts-param-allow_short")
            .unwrap()
            .is::<gtk::Switch>()
    );
    assert!(h.panel.error_lines().is_empty());

    // A syntax error, typed: checked after the pause, marked at its line and column.
    let broken_line = "state.slow = ta::sma(params.slow) *;";
    let line = source
        .lines()
        .position(|l| l.starts_with("state.slow"))
        .unwrap()
        + 1;
    let broken = source.replace("state.slow = ta::sma(params.slow);", broken_line);
    let checks = h.checks();
    h.replace_text(&broken);
    let expected = tickwork_core::scripting::check(&script_jobs::engine(), &broken).unwrap_err();
    assert_eq!(expected.line, Some(line));
    assert!(h.pump_until(Duration::from_secs(5), |h| {
        !h.panel.error_lines().is_empty()
    }));
    assert_eq!(
        h.checks(),
        checks + 1,
        "one check for the whole edit (debounced)"
    );
    assert_eq!(h.panel.error_lines(), vec![line]);
    let message = label(&h.root, "scripts-message");
    assert_eq!(message, expected.to_string());
    assert!(message.starts_with(&format!("{line}:")), "{message}");
    assert!(
        named::<gtk::Label>(&h.root, "scripts-message").has_css_class("error"),
        "the message is shown as an error"
    );
    // Ctrl+Return checks at once and moves the cursor to the error.
    h.root.activate_action("scripts.check", None).unwrap();
    h.pump(Duration::from_millis(100));
    let buffer = h.panel.buffer();
    let cursor = buffer.iter_at_mark(&buffer.get_insert());
    assert_eq!(usize::try_from(cursor.line()).unwrap() + 1, line);
    shoot(&window, "scripts_panel_error.png");

    // Fixed again: the mark goes.
    h.replace_text(source);
    assert!(
        h.pump_until(Duration::from_secs(5), |h| h.panel.error_lines().is_empty()
            && label(&h.root, "scripts-message").starts_with("No errors"))
    );

    // A backtest over the CSV fixture: statistics, the equity curve and the trades.
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/data/spy_daily.csv");
    named::<gtk::Entry>(&h.root, "scripts-bt-symbol").set_text("SPY");
    h.panel.set_backtest_csv(csv);
    h.panel.show_tab(0);
    h.root.activate_action("scripts.backtest", None).unwrap();
    assert!(
        h.pump_until(Duration::from_secs(60), |h| h.panel.equity_points() > 0),
        "the backtest answered: {}",
        label(&h.root, "scripts-bt-status")
    );
    h.pump(Duration::from_millis(300));
    let trades = label(&h.root, "scripts-stat-trades");
    assert!(trades.parse::<u32>().unwrap() > 0, "trades: {trades}");
    assert_eq!(h.panel.trade_count(), trades.parse::<u32>().unwrap());
    assert!(h.panel.equity_points() > 100);
    assert_ne!(label(&h.root, "scripts-stat-net_pnl"), "—");
    let status = label(&h.root, "scripts-bt-status");
    assert!(status.starts_with("SPY · "), "{status}");
    assert!(
        h.panel
            .console_text()
            .contains("sma_cross: fast 10, slow 30"),
        "what the script printed is in the console:\n{}",
        h.panel.console_text()
    );
    let shot = shoot(&window, "scripts_panel.png");
    assert!(shot.exists());

    // A parameter of the wrong type is refused by name before anything is sent.
    named::<gtk::Entry>(&h.root, "scripts-param-fast").set_text("1.5");
    h.pump(Duration::from_millis(50));
    assert_eq!(
        label(&h.root, "scripts-param-problem"),
        "fast: expected an integer, got `1.5`"
    );
    let backtests = |h: &Harness| {
        h.sent
            .iter()
            .filter(|c| matches!(c, ScriptsCommand::Backtest(_)))
            .count()
    };
    let before = backtests(&h);
    h.root.activate_action("scripts.backtest", None).unwrap();
    h.pump(Duration::from_millis(50));
    assert_eq!(backtests(&h), before);

    named::<gtk::Entry>(&h.root, "scripts-param-fast").set_text("10");

    // A run on paper: the request carries the parameters, symbols and the header's account;
    // the host's answers show in the status line and the console; a reload that does not
    // compile says the old version goes on.
    named::<gtk::Entry>(&h.root, "scripts-run-symbols").set_text("spy, qqq");
    h.root.activate_action("scripts.run-paper", None).unwrap();
    h.pump(Duration::from_millis(50));
    let run = h
        .sent
        .iter()
        .find_map(|c| match c {
            ScriptsCommand::Run(run) => Some(run.clone()),
            _ => None,
        })
        .expect("a run is asked for");
    assert_eq!(run.mode, RunMode::Paper);
    assert_eq!(run.account, "DU1");
    assert_eq!(run.symbols, ["SPY", "QQQ"]);
    assert_eq!(run.params["fast"], ParamValue::Int(10));
    assert!(!run.grant);
    let _ = h.root.activate_action("scripts.stop", None);
    h.pump(Duration::from_millis(20));
    assert!(
        !h.sent
            .iter()
            .any(|c| matches!(c, ScriptsCommand::Stop { .. })),
        "nothing to stop yet"
    );
    let checked = script_jobs::check("sma_cross", source).unwrap();
    h.tell(ScriptsEvent::Status {
        instance: Some("sma_cross@DU1/paper".into()),
        status: RunStatus::Running {
            name: "sma_cross".into(),
            mode: RunMode::Paper,
            account: "DU1".into(),
            content_sha256: checked.content_sha256.clone(),
        },
    });
    h.tell(ScriptsEvent::Console {
        instance: Some("sma_cross@DU1/paper".into()),
        lines: vec![(
            chrono::Utc::now(),
            "sma_cross: fast 10, slow 30, qty 100".into(),
        )],
    });
    assert_eq!(
        label(&h.root, "scripts-run-status"),
        format!(
            "Running sma_cross on paper (DU1) · content {}",
            &checked.content_sha256[..12]
        )
    );
    h.replace_text(&broken);
    h.root.activate_action("scripts.reload", None).unwrap();
    h.pump(Duration::from_millis(50));
    assert!(h.sent.iter().any(|c| matches!(
        c,
        ScriptsCommand::Reload { instance, keep_state: true, source, .. }
            if instance == "sma_cross@DU1/paper" && *source == broken
    )));
    h.tell(ScriptsEvent::Status {
        instance: Some("sma_cross@DU1/paper".into()),
        status: RunStatus::ReloadFailed(expected.clone()),
    });
    assert_eq!(
        label(&h.root, "scripts-run-status"),
        format!("Not reloaded: {expected}. The previous version keeps running.")
    );
    assert_eq!(h.panel.error_lines(), vec![line]);
    h.show_tab(1);
    h.pump(Duration::from_millis(200));
    shoot(&window, "scripts_panel_run.png");
    h.root.activate_action("scripts.stop", None).unwrap();
    h.pump(Duration::from_millis(50));
    assert!(h.sent.iter().any(
        |c| matches!(c, ScriptsCommand::Stop { instance } if instance == "sma_cross@DU1/paper")
    ));

    // Live asks first, naming the account and the content hash; confirmed, the run carries
    // the grant.
    h.replace_text(source);
    h.pump(Duration::from_millis(800));
    h.root.activate_action("scripts.run-live", None).unwrap();
    let dialog = RefCell::new(None);
    assert!(h.pump_until(Duration::from_secs(5), |_| {
        let found = gtk::Window::list_toplevels()
            .into_iter()
            .find(|w| w.widget_name() == "scripts-confirm-live");
        dialog.replace(found.and_then(|w| w.downcast::<adw::MessageDialog>().ok()));
        dialog.borrow().is_some()
    }));
    let dialog = dialog.take().unwrap();
    assert_eq!(dialog.heading().unwrap(), "Run sma_cross live on DU1?");
    let body = dialog.body();
    assert!(body.contains(&checked.content_sha256[..12]), "{body}");
    dialog.response("run");
    h.pump(Duration::from_millis(100));
    let live = h
        .sent
        .iter()
        .find_map(|c| match c {
            ScriptsCommand::Run(run) if run.mode == RunMode::Live => Some(run.clone()),
            _ => None,
        })
        .expect("the live run is asked for");
    assert!(live.grant);
    assert_eq!(live.source, source);

    // Saved (Ctrl+S): the list shows it, selected.
    h.root.activate_action("scripts.save", None).unwrap();
    h.pump(Duration::from_millis(50));
    assert!(h.sent.iter().any(|c| matches!(
        c,
        ScriptsCommand::Save { name, source: s } if name == "sma_cross" && s == source
    )));
    h.tell(ScriptsEvent::Saved {
        name: "sma_cross".into(),
        result: Ok(()),
    });
    h.tell(ScriptsEvent::Listed(vec![ScriptSummary {
        name: "sma_cross".into(),
        kind: ScriptKind::Strategy,
        trading_granted: true,
        updated_at: chrono::Utc::now(),
    }]));
    h.pump(Duration::from_millis(100));
    assert!(
        h.requests
            .borrow()
            .iter()
            .any(|r| matches!(r, WindowRequest::Toast(t) if t == "Saved sma_cross"))
    );
    let list: gtk::ListBox = named(&h.root, "scripts-list");
    let row = list.selected_row().expect("the saved script is selected");
    assert_eq!(row.widget_name(), "scripts-row-sma_cross");
    assert_eq!(h.panel.saved_state().unwrap()["stored"], "sma_cross");

    // Every control has a name a screen reader reads (over AT-SPI, from another process).
    tickwork::gui::a11y::name_controls(&h.root, "Scripts");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/workbench/a11y_tree.py");
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = std::process::id().to_string();
    std::thread::spawn(move || {
        let _ = tx.send(
            std::process::Command::new("/usr/bin/python3")
                .arg(script)
                .arg(pid)
                .output(),
        );
    });
    let output = RefCell::new(None);
    assert!(h.pump_until(Duration::from_secs(120), |_| {
        if let Ok(out) = rx.try_recv() {
            output.replace(Some(out));
        }
        output.borrow().is_some()
    }));
    let output = output.take().unwrap().expect("python3 runs");
    let tree = String::from_utf8_lossy(&output.stdout).into_owned();
    std::fs::write(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/screenshots/scripts-a11y-tree.txt"),
        &tree,
    )
    .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "Check",
        "Save",
        "Run backtest",
        "New script",
        "Open an example…",
    ] {
        assert!(
            tree.lines().any(|l| l.contains(&format!("\t{expected}\t"))),
            "{expected} is named in the accessibility tree"
        );
    }
    window.close();
}

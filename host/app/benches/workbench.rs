//! The workbench under load, measured in one run (`cargo bench -p tickwork --bench workbench`,
//! under Xvfb; see docs/benchmarks.md):
//!
//! - **flood**: 500 watchlist rows at 20 quote updates per second each (10,000 updates/s) with
//!   a chart of 2,000 candles open, delivered the way the window does it (merged per instrument
//!   in the quote board, drained once per frame) beside the un-coalesced baseline (every update
//!   its own main-loop dispatch, as one message per tick would be). Reported: the longest
//!   main-loop stall, frames per second, and the UI thread's CPU time.
//! - **start**: `tickwork --demo` (embedded PostgreSQL already initialised) from process start
//!   to the first frame of the window, and to the first live price in the watchlist.
//!
//! GTK runs once per process, so each measurement is a child process of this binary.

use std::cell::{Cell, RefCell};
use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adw::prelude::*;
use gtk::glib;
use rust_decimal::Decimal;
use tickwork::gui::boundary::{
    Commands, MarketEvent, Notification, QuoteBoard, SessionEvent, WatchEntry, Watchlist,
};
use tickwork::gui::frame::FrameDrain;
use tickwork::gui::panels::{Panel, PanelContext, PanelEvent, PanelRegistry, Shared};
use tickwork_core::domain::{Bar, Instrument, InstrumentSpec, Quote};

const ROWS: i64 = 500;
const UPDATES_PER_ROW: u64 = 20;
const WARM_UP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--phase") {
        let phase = args.get(at + 1).map(String::as_str).unwrap_or("");
        match phase {
            "flood-coalesced" => flood(true),
            "flood-direct" => flood(false),
            "start" => start(args.get(at + 2).map(String::as_str) == Some("measure")),
            other => eprintln!("unknown phase {other}"),
        }
        return;
    }
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "the workbench benchmark needs a display: run it under xvfb-run (docs/benchmarks.md)"
        );
        return;
    }
    println!(
        "workbench benchmark: {ROWS} rows × {UPDATES_PER_ROW} updates/s, chart of 2,000 candles"
    );
    let coalesced = child(&["--phase", "flood-coalesced"]);
    let direct = child(&["--phase", "flood-direct"]);
    println!("{coalesced}");
    println!("{direct}");
    let home = tempfile::tempdir().expect("temp dir");
    // The first start initialises the embedded cluster; it is not measured.
    let _ = child_in(&["--phase", "start", "init"], home.path());
    for _ in 0..3 {
        println!(
            "{}",
            child_in(&["--phase", "start", "measure"], home.path())
        );
    }
}

fn child(args: &[&str]) -> String {
    let out = Command::new(std::env::current_exe().expect("own path"))
        .args(args)
        .env(
            "GSK_RENDERER",
            std::env::var("GSK_RENDERER").unwrap_or("cairo".into()),
        )
        .output()
        .expect("run a measurement");
    report_of(&out)
}

fn child_in(args: &[&str], home: &std::path::Path) -> String {
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[database]\nembedded_dir = \"{}\"\n",
            home.join("pg").display()
        ),
    )
    .expect("config");
    let _ = std::fs::set_permissions(home, std::os::unix::fs::PermissionsExt::from_mode(0o755));
    let out = Command::new(std::env::current_exe().expect("own path"))
        .args(args)
        .env("TICKWORK_CONFIG", home.join("config.toml"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("TICKWORK_DATABASE_URL")
        .env(
            "GSK_RENDERER",
            std::env::var("GSK_RENDERER").unwrap_or("cairo".into()),
        )
        .output()
        .expect("run a measurement");
    report_of(&out)
}

fn report_of(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut report: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .map(str::to_owned)
        .collect();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        report.push(format!("(failed: {})", stderr.lines().last().unwrap_or("")));
    }
    report.join("\n")
}

/// CPU time (user + system) of the calling thread, from /proc.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let hz = 100; // USER_HZ on Linux
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / hz)
}

fn instrument(i: i64) -> Instrument {
    Instrument {
        id: i,
        spec: InstrumentSpec::stock(&format!("S{i:03}")),
    }
}

fn bars(instrument_id: i64, n: i64) -> Vec<Bar> {
    let start = chrono::Utc::now() - chrono::Duration::minutes(n);
    (0..n)
        .map(|i| {
            let base = Decimal::from(100 + (i % 50)) + Decimal::new(i % 7, 1);
            Bar {
                instrument_id,
                bar_seconds: 60,
                ts: start + chrono::Duration::minutes(i),
                open: base,
                high: base + Decimal::ONE,
                low: base - Decimal::ONE,
                close: base + Decimal::new(5, 1),
                volume: Decimal::from(1000 + i),
            }
        })
        .collect()
}

thread_local! {
    static PANELS: RefCell<Vec<Box<dyn Panel>>> = RefCell::default();
    static DRAIN: RefCell<Option<(FrameDrain, gtk::Window)>> = RefCell::default();
}

fn deliver_to_panels(quotes: &[Quote]) {
    PANELS.with(|panels| {
        for panel in panels.borrow().iter() {
            panel.quotes(quotes);
        }
    });
}

/// 10,000 quote updates per second into the watchlist (and the chart) for `MEASURE`.
fn flood(coalesced: bool) {
    gtk::init().expect("GTK");
    adw::init().expect("libadwaita");
    let (commands, _keep) = Commands::channel();
    let shared = Rc::new(RefCell::new(Shared {
        demo: true,
        ..Shared::default()
    }));
    let registry = PanelRegistry::builtin();
    let context =
        |saved| PanelContext::new(commands.clone(), shared.clone(), Rc::new(|_| {}), saved);
    let window = gtk::Window::builder()
        .default_width(1280)
        .default_height(800)
        .build();
    let paned = gtk::Paned::new(gtk::Orientation::Horizontal);
    let watchlist = (registry.get("watchlist").expect("watchlist panel").build)(context(None));
    paned.set_start_child(Some(&watchlist.widget()));
    let chart = registry.get("chart").map(|p| (p.build)(context(None)));
    if let Some(chart) = &chart {
        paned.set_end_child(Some(&chart.widget()));
    }
    paned.set_position(640);
    window.set_child(Some(&paned));
    window.present();

    let instruments: Vec<Instrument> = (1..=ROWS).map(instrument).collect();
    let list = Watchlist {
        name: "Bench".into(),
        entries: instruments
            .iter()
            .map(|i| WatchEntry::from_spec(&i.spec))
            .collect(),
    };
    let mut panels: Vec<Box<dyn Panel>> = vec![watchlist];
    panels.extend(chart);
    let send = |event: PanelEvent, panels: &[Box<dyn Panel>]| {
        for panel in panels {
            panel.event(&event);
        }
    };
    send(
        PanelEvent::Backend(Notification::Session(SessionEvent::Connection(
            tickwork_core::session::ConnectionState::Live,
        ))),
        &panels,
    );
    send(
        PanelEvent::Backend(Notification::Market(MarketEvent::Watchlists(vec![list]))),
        &panels,
    );
    for instrument in &instruments {
        shared
            .borrow_mut()
            .instruments
            .insert(instrument.id, instrument.clone());
        send(
            PanelEvent::Backend(Notification::Market(MarketEvent::Watching(
                instrument.clone(),
            ))),
            &panels,
        );
    }
    send(
        PanelEvent::InstrumentSelected(instruments[0].clone()),
        &panels,
    );
    send(
        PanelEvent::Backend(Notification::Market(MarketEvent::History {
            instrument_id: 1,
            bar_seconds: 60,
            bars: bars(1, 2000),
            complete: true,
        })),
        &panels,
    );
    PANELS.with(|p| *p.borrow_mut() = panels);

    let board = Arc::new(QuoteBoard::default());
    DRAIN.with(|d| {
        *d.borrow_mut() = Some((
            FrameDrain::new(board.clone(), Rc::new(deliver_to_panels)),
            window.clone(),
        ))
    });

    // Let the window settle before the flood starts.
    let context = glib::MainContext::default();
    let settle = Instant::now() + Duration::from_millis(500);
    while Instant::now() < settle {
        context.iteration(false);
        std::thread::sleep(Duration::from_millis(2));
    }

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producer = {
        let stop = stop.clone();
        let board = board.clone();
        std::thread::spawn(move || produce(coalesced, board, stop))
    };

    // Instruments: frames painted, the longest gap between 1 ms timer firings, CPU.
    let frames = Rc::new(Cell::new(0u64));
    let last_frame = Rc::new(Cell::new(Instant::now()));
    let frame_gap = Rc::new(Cell::new(Duration::ZERO));
    let clock = window
        .frame_clock()
        .expect("a mapped window has a frame clock");
    {
        let (frames, last_frame, frame_gap) =
            (frames.clone(), last_frame.clone(), frame_gap.clone());
        clock.connect_after_paint(move |_| {
            frames.set(frames.get() + 1);
            let now = Instant::now();
            frame_gap.set(frame_gap.get().max(now - last_frame.get()));
            last_frame.set(now);
        });
    }
    let longest = Rc::new(Cell::new(Duration::ZERO));
    let last = Rc::new(Cell::new(Instant::now()));
    let measuring = Rc::new(Cell::new(false));
    {
        let (longest, last, measuring) = (longest.clone(), last.clone(), measuring.clone());
        glib::timeout_add_local(Duration::from_millis(1), move || {
            let now = Instant::now();
            if measuring.get() {
                longest.set(longest.get().max(now - last.get()));
            }
            last.set(now);
            glib::ControlFlow::Continue
        });
    }
    let warm = Instant::now() + WARM_UP;
    while Instant::now() < warm {
        context.iteration(true);
    }
    measuring.set(true);
    last.set(Instant::now());
    frames.set(0);
    last_frame.set(Instant::now());
    frame_gap.set(Duration::ZERO);
    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    while t0.elapsed() < MEASURE {
        context.iteration(true);
    }
    let wall = t0.elapsed();
    let cpu = thread_cpu() - cpu0;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = producer.join();
    let stall = longest.get().saturating_sub(Duration::from_millis(1));
    // Without a frame in the whole window, the gap is the window itself.
    let gap = frame_gap.get().max(last_frame.get().elapsed().min(wall));
    println!(
        "RESULT {:<10} longest main-loop stall {:>6.1} ms   longest time without a frame {:>7.1} ms   \
         {:>5.1} frames/s   UI thread CPU {:>5.1} %",
        if coalesced { "coalesced" } else { "direct" },
        stall.as_secs_f64() * 1000.0,
        gap.as_secs_f64() * 1000.0,
        frames.get() as f64 / wall.as_secs_f64(),
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
    );
}

/// The quote source: every 10 ms, 100 updates (500 instruments × 20/s), prices walking.
fn produce(coalesced: bool, board: Arc<QuoteBoard>, stop: Arc<std::sync::atomic::AtomicBool>) {
    let per_tick = (ROWS as u64 * UPDATES_PER_ROW / 100) as i64;
    let mut next = 0i64;
    let mut step = 0i64;
    let started = Instant::now();
    let mut tick = 0u32;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let batch: Vec<Quote> = (0..per_tick)
            .map(|_| {
                next = next % ROWS + 1;
                step += 1;
                let last = Decimal::new(10_000 + (step * 7919) % 500, 2);
                Quote {
                    instrument_id: next,
                    bid: Some(last - Decimal::new(1, 2)),
                    ask: Some(last + Decimal::new(1, 2)),
                    last: Some(last),
                    volume: Some(Decimal::from(step)),
                    close: Some(Decimal::from(100)),
                    updated_at: Some(chrono::Utc::now()),
                    ..Quote::default()
                }
            })
            .collect();
        if coalesced {
            if board.merge(batch) {
                glib::MainContext::default().invoke(|| {
                    DRAIN.with(|d| {
                        if let Some((drain, window)) = d.borrow().as_ref() {
                            drain.schedule(window);
                        }
                    })
                });
            }
        } else {
            for quote in batch {
                glib::MainContext::default().invoke(move || deliver_to_panels(&[quote]));
            }
        }
        tick += 1;
        let due = started + Duration::from_millis(10) * tick;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

/// `tickwork --demo` start: process start → first frame → first live price in the watchlist.
fn start(measure: bool) {
    let t0 = Instant::now();
    let ctx =
        tickwork::context::Context::load(std::env::var_os("TICKWORK_CONFIG").map(Into::into), None)
            .expect("context");
    let options = tickwork::gui::StartOptions {
        target: ctx.embedded_target(),
        demo: true,
        profile: None,
        plugins: None,
    };
    let first_frame = Rc::new(Cell::new(None::<Duration>));
    let first_price = Rc::new(Cell::new(None::<Duration>));
    {
        let (first_frame, first_price) = (first_frame.clone(), first_price.clone());
        glib::MainContext::default().spawn_local(async move {
            let window = loop {
                if let Some(w) = gtk::Window::list_toplevels()
                    .into_iter()
                    .find_map(|w| w.downcast::<adw::ApplicationWindow>().ok())
                    .filter(|w| w.is_mapped())
                {
                    break w;
                }
                glib::timeout_future(Duration::from_millis(1)).await;
            };
            if let Some(clock) = window.frame_clock() {
                let first_frame = first_frame.clone();
                clock.connect_after_paint(move |_| {
                    if first_frame.get().is_none() {
                        first_frame.set(Some(t0.elapsed()));
                    }
                });
            }
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if has_live_price(&window) {
                    first_price.set(Some(t0.elapsed()));
                    break;
                }
                glib::timeout_future(Duration::from_millis(10)).await;
            }
            window.close();
        });
    }
    if let Err(err) = tickwork::gui::run_window(options, None, PanelRegistry::builtin()) {
        eprintln!("{err:#}");
        std::process::exit(1);
    }
    if measure {
        let ms = |d: Option<Duration>| {
            d.map_or("—".to_owned(), |d| {
                format!("{:.0} ms", d.as_secs_f64() * 1000.0)
            })
        };
        println!(
            "RESULT start      first frame {:>8}   first live price {:>8}",
            ms(first_frame.get()),
            ms(first_price.get())
        );
    }
}

/// Whether the watchlist shows a number in its Last column for some row.
fn has_live_price(window: &adw::ApplicationWindow) -> bool {
    fn walk(w: &gtk::Widget, out: &mut Vec<gtk::Widget>) {
        out.push(w.clone());
        let mut c = w.first_child();
        while let Some(child) = c {
            walk(&child, out);
            c = child.next_sibling();
        }
    }
    let mut all = Vec::new();
    walk(window.upcast_ref(), &mut all);
    let Some(view) = all
        .into_iter()
        .find(|w| w.widget_name() == "watchlist-view")
    else {
        return false;
    };
    let mut cells = Vec::new();
    walk(&view, &mut cells);
    cells
        .into_iter()
        .filter(|w| w.css_name() == "row")
        .any(|row| {
            let mut labels = Vec::new();
            walk(&row, &mut labels);
            let texts: Vec<String> = labels
                .into_iter()
                .filter_map(|l| l.downcast::<gtk::Label>().ok())
                .map(|l| l.text().to_string())
                .collect();
            texts
                .get(3)
                .is_some_and(|t| t.replace(',', "").parse::<f64>().is_ok())
        })
}

//! What a scenario runs against: a fresh database on the test server, optionally a simulator
//! and stored profiles, the real window; and the scenario's script queued on the main loop.

use std::cell::RefCell;
use std::process::ExitCode;
use std::rc::Rc;

use gtk::glib;
use gtk::prelude::*;
use tickwork::gui::StartOptions;
use tickwork::gui::panels::PanelRegistry;
use tickwork_core::store::DatabaseTarget;

use crate::driver::{self, Step};
use crate::scenarios;

/// One scenario's surroundings, shared by its runs of the window.
pub struct World {
    pub name: String,
    pub runtime: tokio::runtime::Runtime,
    pub database_url: String,
    pub pool: sqlx::PgPool,
    pub sim: Option<tickwork_sim::SimHandle>,
}

impl World {
    fn new(name: &str, phase: usize) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = std::env::var("DATABASE_URL")
            .expect("DATABASE_URL (a PostgreSQL superuser URL; dev/test.sh sets it)");
        let database = std::env::var("TW_GUI_DATABASE")
            .unwrap_or_else(|_| format!("tw_gui_{}_{}", name, std::process::id()));
        let database_url = runtime.block_on(async {
            if phase > 0 {
                return replace_database(&server, &database);
            }
            let admin = sqlx::PgPool::connect(&server).await.expect("test server");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {database}"))
                .execute(&admin)
                .await
                .expect("drop");
            sqlx::query(&format!("CREATE DATABASE {database}"))
                .execute(&admin)
                .await
                .expect("create database");
            replace_database(&server, &database)
        });
        let pool = runtime.block_on(async {
            let pool = sqlx::PgPool::connect(&database_url).await.expect("connect");
            sqlx::migrate!("../../migrations")
                .run(&pool)
                .await
                .expect("migrate");
            pool
        });
        Self {
            name: name.to_owned(),
            runtime,
            database_url,
            pool,
            sim: None,
        }
    }

    /// Starts a simulator this scenario's profiles can point at.
    pub fn start_sim(&mut self) -> u16 {
        let sim = self.runtime.block_on(async {
            tickwork_sim::Simulator::start(tickwork_sim::SimConfig {
                port: 0,
                ..tickwork_sim::SimConfig::default()
            })
            .await
            .expect("simulator")
        });
        let port = sim.local_addr().port();
        self.sim = Some(sim);
        port
    }

    pub fn target(&self) -> DatabaseTarget {
        DatabaseTarget::Server {
            options: Box::new(self.database_url.parse().expect("url")),
            describe: "test database".into(),
        }
    }

    /// Runs the window until `script` ends (it closes the window). Once per process: GTK
    /// applications do not run twice; a restart is the scenario's next phase.
    pub fn run_window<F>(&self, demo: bool, profile: Option<String>, script: F) -> Step
    where
        F: std::future::Future<Output = Step> + 'static,
    {
        let result: Rc<RefCell<Option<Step>>> = Rc::default();
        let slot = result.clone();
        let name = self.name.clone();
        glib::MainContext::default().spawn_local(async move {
            let outcome = script.await;
            if outcome.is_err() {
                // What the window showed when it failed, for the report.
                let _ = driver::screenshot(&format!("failed-{name}")).await;
            }
            *slot.borrow_mut() = Some(outcome);
            // Give the window a moment to save what closing saves, then close it.
            driver::sleep(200).await;
            if let Some(window) = driver::main_window() {
                window.close();
            }
        });
        let options = StartOptions {
            target: self.target(),
            demo,
            profile,
            plugins: None,
        };
        tickwork::gui::run_window(options, None, PanelRegistry::builtin())
            .map_err(|e| format!("the workbench failed: {e:#}"))?;
        result
            .borrow_mut()
            .take()
            .unwrap_or(Err("the window closed before the scenario ended".into()))
    }
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let base = match base.rfind('/') {
        Some(at) if at > "postgres://".len() => &base[..at],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

pub fn run_scenario(name: &str, phase: usize) -> ExitCode {
    let Some((_, _, scenario)) = scenarios::ALL.iter().find(|(n, _, _)| *n == name) else {
        eprintln!("no scenario named {name}");
        return ExitCode::FAILURE;
    };
    // Predictable pictures and no user settings leaking in.
    let home = tempfile::tempdir().expect("temp dir");
    // SAFETY: single-threaded here: nothing else reads the environment yet.
    unsafe {
        std::env::set_var("XDG_CONFIG_HOME", home.path().join("config"));
        std::env::set_var("XDG_DATA_HOME", home.path().join("data"));
        std::env::set_var("XDG_STATE_HOME", home.path().join("state"));
        std::env::set_var(
            "GSK_RENDERER",
            std::env::var("GSK_RENDERER").unwrap_or("cairo".into()),
        );
    }
    // The workbench's own log on stderr, shown for a failed scenario.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let mut world = World::new(name, phase);
    let result = scenario(&mut world, phase);
    if let Some(sim) = world.sim.take() {
        world.runtime.block_on(sim.shutdown());
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            println!("scenario {name} failed: {err}");
            ExitCode::FAILURE
        }
    }
}

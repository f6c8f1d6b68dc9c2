//! End-to-end tests of the workbench window: the real window and panels, the real backend, the
//! simulator over TCP and a PostgreSQL database of their own, driven as a trader would (clicks,
//! typing, dialogs) under Xvfb. Screenshots of each main view go to `target/screenshots/`.
//!
//! GTK runs on one thread per process and an application runs once, so each scenario runs in a
//! child process of this binary (`workbench --scenario NAME`); that also lets a scenario restart
//! the workbench (the layout test does).

mod driver;
mod scenarios;
mod world;

use std::process::{Command, ExitCode};
use std::time::Instant;

/// The command running one phase of a scenario. A scenario that reads the accessibility tree
/// gets a session bus and runtime directory of its own, so that its accessibility bus is its
/// own too (the bus socket's path is per runtime directory, and another session's bus
/// launcher removes it when it exits).
fn scenario_command(name: &str, phase: usize) -> Command {
    let exe = std::env::current_exe().expect("own path");
    let phase = phase.to_string();
    if scenarios::OWN_SESSION.contains(&name) {
        let runtime = std::env::temp_dir().join(format!("tw-a11y-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&runtime);
        let _ = std::fs::set_permissions(
            &runtime,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        );
        let mut command = Command::new("dbus-run-session");
        command
            .arg("--")
            .arg(exe)
            .args(["--scenario", name, &phase])
            .env("XDG_RUNTIME_DIR", runtime);
        command
    } else {
        let mut command = Command::new(exe);
        command.args(["--scenario", name, &phase]);
        command
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--scenario") {
        let name = args.get(at + 1).cloned().unwrap_or_default();
        let phase = args.get(at + 2).and_then(|p| p.parse().ok()).unwrap_or(0);
        return world::run_scenario(&name, phase);
    }
    if args.iter().any(|a| a == "--list") {
        for (name, _, _) in scenarios::ALL {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let chosen: Vec<&str> = scenarios::ALL
        .iter()
        .map(|(name, _, _)| *name)
        .filter(|name| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests", chosen.len());
    let mut failed = Vec::new();
    for name in &chosen {
        let started = Instant::now();
        let phases = scenarios::ALL
            .iter()
            .find(|(n, _, _)| n == name)
            .map_or(1, |(_, phases, _)| *phases);
        // Each phase is one run of the workbench; the phases of a scenario share its database.
        let database = format!("tw_gui_{}_{}", name, std::process::id());
        let mut output = None;
        for phase in 0..phases {
            let mut command = scenario_command(name, phase);
            command
                .env("TW_GUI_DATABASE", &database)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let child = command.spawn().expect("run a scenario");
            let run = child.wait_with_output().expect("scenario output");
            let ok = run.status.success();
            output = Some(run);
            if !ok {
                break;
            }
        }
        let output = output.expect("at least one phase");
        drop_database(&database);
        let ok = output.status.success();
        println!(
            "test {name} ... {} ({:.1} s)",
            if ok { "ok" } else { "FAILED" },
            started.elapsed().as_secs_f64()
        );
        if !ok {
            failed.push((
                *name,
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
    }
    for (name, stdout, stderr) in &failed {
        println!("\n---- {name} stdout ----\n{stdout}\n---- {name} stderr (last 60 lines) ----");
        let lines: Vec<&str> = stderr.lines().collect();
        println!("{}", lines[lines.len().saturating_sub(60)..].join("\n"));
    }
    println!(
        "\ntest result: {}. {} passed; {} failed; 0 ignored; 0 measured; 0 filtered out\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        chosen.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Removes a scenario's database from the test server once all its phases ran.
fn drop_database(database: &str) {
    let Ok(server) = std::env::var("DATABASE_URL") else {
        return;
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        if let Ok(admin) = sqlx::PgPool::connect(&server).await {
            let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                .execute(&admin)
                .await;
            if let Err(err) = dropped {
                eprintln!("could not drop {database}: {err}");
            }
            admin.close().await;
        }
    });
}

//! The embedded PostgreSQL cluster, for real: initdb, start, reuse, crash recovery, stop.
//!
//! These tests run as root in CI, so they also cover running the server as the unprivileged
//! `postgres` user; as an ordinary user they run the server as that user.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use tickwork_core::store::embedded::{EmbeddedCluster, EmbeddedConfig, EmbeddedError};
use tickwork_core::store::{DatabaseTarget, open};

fn config(dir: &tempfile::TempDir) -> EmbeddedConfig {
    // tempdirs are 0700; the server user must be able to traverse into it.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    EmbeddedConfig {
        root: dir.path().join("pg"),
        bin_dir: None,
        run_as: "postgres".to_owned(),
    }
}

fn server_running(config: &EmbeddedConfig) -> bool {
    let pid_file = config.root.join("data/postmaster.pid");
    let Ok(text) = std::fs::read_to_string(pid_file) else {
        return false;
    };
    let pid: i32 = text.lines().next().unwrap().trim().parse().unwrap();
    PathBuf::from(format!("/proc/{pid}")).exists()
}

async fn count_rows(cluster: &EmbeddedCluster) -> i64 {
    let store = tickwork_core::store::Store::connect(cluster.connect_options(), "test")
        .await
        .unwrap();
    let n = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(store.pool())
        .await
        .unwrap();
    store.close().await;
    n
}

async fn add_row(cluster: &EmbeddedCluster) {
    let store = tickwork_core::store::Store::connect(cluster.connect_options(), "test")
        .await
        .unwrap();
    sqlx::query("INSERT INTO audit_log (actor, action) VALUES ('test', 'row')")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_restart_and_no_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    let opened = open(DatabaseTarget::Embedded(config.clone()), true)
        .await
        .unwrap();
    let cluster = opened.cluster().unwrap();
    assert!(cluster.started_here());
    let listen: String = sqlx::query_scalar("SHOW listen_addresses")
        .fetch_one(opened.store.pool())
        .await
        .unwrap();
    assert_eq!(listen, "", "the embedded server must not listen on TCP");
    add_row(cluster).await;
    opened.close().await.unwrap();
    assert!(!server_running(&config), "the last user stops the server");

    // Restart: same data, migrations already applied.
    let opened = open(DatabaseTarget::Embedded(config.clone()), true)
        .await
        .unwrap();
    assert_eq!(count_rows(opened.cluster().unwrap()).await, 1);
    let status = opened.store.status().await.unwrap();
    assert!(status.migrations.iter().all(|m| m.applied_at.is_some()));
    opened.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn second_instance_reuses_and_last_one_stops() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    let first = open(DatabaseTarget::Embedded(config.clone()), true)
        .await
        .unwrap();
    let second = open(DatabaseTarget::Embedded(config.clone()), true)
        .await
        .unwrap();
    assert!(first.cluster().unwrap().started_here());
    assert!(
        !second.cluster().unwrap().started_here(),
        "second instance must reuse the server"
    );
    first.close().await.unwrap();
    assert!(
        server_running(&config),
        "still in use by the second instance"
    );
    add_row(second.cluster().unwrap()).await;
    second.close().await.unwrap();
    assert!(!server_running(&config));
}

#[tokio::test(flavor = "multi_thread")]
async fn recovers_from_killed_server_and_stale_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    let opened = open(DatabaseTarget::Embedded(config.clone()), true)
        .await
        .unwrap();
    add_row(opened.cluster().unwrap()).await;
    let pid_file = config.root.join("data/postmaster.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        pid_file.exists(),
        "a killed postmaster leaves its pid file behind"
    );
    // Releasing a cluster whose server died is not an error.
    opened.close().await.unwrap();

    let reopened = open(DatabaseTarget::Embedded(config.clone()), true)
        .await
        .unwrap();
    assert!(reopened.cluster().unwrap().started_here());
    assert_eq!(
        count_rows(reopened.cluster().unwrap()).await,
        1,
        "committed data survives the crash"
    );
    reopened.close().await.unwrap();

    let data_dir = config.root.join("data");
    // A pid file naming a process that has exited...
    let mut exited = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = exited.id();
    exited.wait().unwrap();
    // ...or a live process that is not our postgres (this test): both are stale.
    for stale_pid in [dead_pid, std::process::id()] {
        std::fs::write(&pid_file, format!("{stale_pid}\n{}\n", data_dir.display())).unwrap();
        let reopened = open(DatabaseTarget::Embedded(config.clone()), true)
            .await
            .unwrap();
        assert!(
            reopened.cluster().unwrap().started_here(),
            "pid {stale_pid}"
        );
        assert_eq!(count_rows(reopened.cluster().unwrap()).await, 1);
        reopened.close().await.unwrap();
    }
}

async fn start_cluster(config: &EmbeddedConfig) -> EmbeddedCluster {
    let config = config.clone();
    tokio::task::spawn_blocking(move || EmbeddedCluster::start(&config))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_stops_and_a_drop_inside_the_runtime_never_waits_for_pg_ctl() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    let cluster = start_cluster(&config).await;
    assert!(cluster.started_here() && server_running(&config));
    // Dropped on a runtime worker without shutdown(): it must not run `pg_ctl stop` there, so
    // it leaves like a crashed process: the lease goes, the server stays for the next user.
    drop(cluster);
    assert!(
        server_running(&config),
        "a drop inside the runtime does not stop the server"
    );
    let again = start_cluster(&config).await;
    assert!(!again.started_here(), "the next user reuses the server");
    assert!(
        again.shutdown().await.unwrap(),
        "the last user's shutdown stops the server"
    );
    assert!(!server_running(&config));
}

#[test]
fn a_drop_outside_any_runtime_still_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir);
    let cluster = EmbeddedCluster::start(&config).unwrap();
    assert!(server_running(&config));
    drop(cluster);
    assert!(
        !server_running(&config),
        "no runtime to block: the last resort stops it"
    );
}

#[test]
fn root_without_server_user_gets_a_clear_error() {
    if !nix::unistd::geteuid().is_root() {
        // As an ordinary user the server runs as that user; there is no user to look up.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = EmbeddedConfig {
        run_as: "tickwork-no-such-user".to_owned(),
        ..config(&dir)
    };
    let err = EmbeddedCluster::start(&config).unwrap_err();
    assert!(matches!(err, EmbeddedError::NoServerUser { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("refuses to run as root") && text.contains("tickwork-no-such-user"),
        "{text}"
    );
    assert!(!text.contains('\n'));
    assert!(
        !config.root.join("data").exists(),
        "nothing is created before the check"
    );
}

#[test]
fn unreachable_directory_is_refused_when_root() {
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Owned by root and closed to others, like root's home: `postgres` cannot enter it.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let config = EmbeddedConfig {
        root: dir.path().join("pg"),
        bin_dir: None,
        run_as: "postgres".into(),
    };
    let err = EmbeddedCluster::start(&config).unwrap_err();
    assert!(matches!(err, EmbeddedError::Unreachable { .. }), "{err:?}");
}

#[test]
fn missing_binaries_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmbeddedConfig {
        bin_dir: Some(dir.path().to_path_buf()),
        ..config(&dir)
    };
    let err = EmbeddedCluster::start(&config).unwrap_err();
    assert!(
        err.to_string().contains("database.postgres_bin_dir"),
        "{err}"
    );
}

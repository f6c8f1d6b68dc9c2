//! The embedded default database: a private PostgreSQL cluster run from the system's binaries.
//!
//! Layout under the cluster root (`$XDG_DATA_HOME/tickwork/postgres` by default):
//!
//! ```text
//! data/          the cluster (initdb), owned by the server user
//! run/           the Unix socket directory (mode 0700); the server never listens on TCP
//! server.log     the server's own log
//! control.lock   held exclusively while one process starts or stops the server
//! users.lock     held shared by every running Tickwork that uses the server
//! ```
//!
//! Several Tickwork processes may share one cluster: each holds a shared lock on `users.lock`
//! for as long as it runs, and the last one to leave stops the server. A process killed with
//! SIGKILL releases its lock with its death and leaves the server running for the next one.
//! A stale `postmaster.pid` (the server itself was killed) is detected and removed.
//!
//! PostgreSQL refuses to run as root, so when Tickwork runs as root the server runs as an
//! unprivileged system user (`postgres` by default) that owns `data/` and `run/`.
//!
//! **Shutdown is explicit.** Stopping the server runs `pg_ctl stop`, which waits up to a minute:
//! async code awaits [`EmbeddedCluster::shutdown`] (it runs on a blocking thread), sync code
//! calls [`EmbeddedCluster::stop`]. Dropping a cluster that was not shut down is the last
//! resort: outside any tokio runtime it stops the server as `stop` would; inside a runtime it
//! must not block a worker thread, so it only gives up this process's use, as a crash would,
//! and logs a warning. The server then keeps running; the next Tickwork reuses it and stops it
//! when it leaves last.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use crate::config::DatabaseConfig;
use crate::paths::AppPaths;

/// The database Tickwork creates inside the embedded cluster.
pub const DATABASE_NAME: &str = "tickwork";
/// Where the cluster lives when Tickwork runs as root (root's home is not reachable by the
/// unprivileged server user).
pub const ROOT_DEFAULT_DIR: &str = "/var/lib/tickwork/postgres";
/// The system user that runs the server when Tickwork runs as root, unless configured.
pub const DEFAULT_RUN_AS: &str = "postgres";
/// Longest socket path the kernel accepts (`sun_path` is 108 bytes including the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Where the cluster lives and how to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedConfig {
    pub root: PathBuf,
    pub bin_dir: Option<PathBuf>,
    pub run_as: String,
}

impl EmbeddedConfig {
    /// Applies the defaults documented in `docs/operations.md`.
    pub fn from_config(config: &DatabaseConfig, paths: &AppPaths) -> Self {
        let root = config.embedded_dir.clone().unwrap_or_else(|| {
            if nix::unistd::geteuid().is_root() {
                PathBuf::from(ROOT_DEFAULT_DIR)
            } else {
                paths.embedded_database_dir()
            }
        });
        Self {
            root,
            bin_dir: config.postgres_bin_dir.clone(),
            run_as: config
                .embedded_run_as
                .clone()
                .unwrap_or_else(|| DEFAULT_RUN_AS.to_owned()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in {searched}; install PostgreSQL \
         (Debian: apt install postgresql) or set database.postgres_bin_dir"
    )]
    BinariesNotFound { searched: String },
    #[error(
        "Tickwork runs as root and PostgreSQL refuses to run as root; the embedded server should run \
         as system user `{user}`, which does not exist: create it (installing PostgreSQL does) or set \
         database.embedded_run_as"
    )]
    NoServerUser { user: String },
    #[error(
        "the embedded server runs as `{user}`, who cannot reach {path}; choose a database.embedded_dir \
         that user can traverse"
    )]
    Unreachable { user: String, path: PathBuf },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error(
        "{path} exists but is not a PostgreSQL data directory; move it away or set database.embedded_dir"
    )]
    NotADataDir { path: PathBuf },
    #[error(
        "socket path {path} is longer than {MAX_SOCKET_PATH} bytes; set a shorter database.embedded_dir"
    )]
    SocketPathTooLong { path: PathBuf },
    #[error("{command} failed: {message}")]
    Command { command: String, message: String },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> EmbeddedError + '_ {
    move |err| EmbeddedError::Io {
        path: path.to_path_buf(),
        message: err.to_string(),
    }
}

/// The unprivileged identity the server runs under, when we are root.
#[derive(Debug, Clone)]
struct ServerUser {
    name: String,
    uid: u32,
    gid: u32,
}

/// A running embedded cluster that this process is using.
///
/// Release it with [`EmbeddedCluster::shutdown`] (async) or [`EmbeddedCluster::stop`]: if no
/// other Tickwork is using the server, it is stopped (fast shutdown: open transactions roll
/// back, committed data is safe). Dropping it instead is a fallback; see the module docs.
#[derive(Debug)]
pub struct EmbeddedCluster {
    root: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    bin_dir: PathBuf,
    db_user: String,
    server_user: Option<ServerUser>,
    lease: Option<File>,
    /// True when this process started the server (for logs and tests).
    started_here: bool,
}

impl EmbeddedCluster {
    /// Creates the cluster if needed, starts the server unless another Tickwork already runs it,
    /// and registers this process as a user. Blocking: call from a blocking context.
    pub fn start(config: &EmbeddedConfig) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir(config.bin_dir.as_deref())?;
        let server_user = if nix::unistd::geteuid().is_root() {
            Some(lookup_server_user(&config.run_as)?)
        } else {
            None
        };
        let db_user = current_user_name()?;
        let root = config.root.clone();
        let data_dir = root.join("data");
        let socket_dir = root.join("run");
        let socket_file = socket_dir.join(".s.PGSQL.5432");
        if socket_file.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(EmbeddedError::SocketPathTooLong { path: socket_file });
        }

        fs::create_dir_all(&root).map_err(io_error(&root))?;
        let mut cluster = Self {
            root: root.clone(),
            data_dir,
            socket_dir,
            bin_dir,
            db_user,
            server_user,
            lease: None,
            started_here: false,
        };
        cluster.prepare_dirs()?;

        let control = lock_file(&root.join("control.lock"))?;
        control.lock().map_err(io_error(&root))?;
        let result = cluster.start_locked();
        // The control lock is released when `control` is dropped, after the lease is taken.
        drop(control);
        result?;
        Ok(cluster)
    }

    fn start_locked(&mut self) -> Result<(), EmbeddedError> {
        if !self.data_dir.join("PG_VERSION").exists() {
            self.init_cluster()?;
        }
        match self.server_pid()? {
            Some(pid) => {
                tracing::info!(pid, dir = %self.data_dir.display(), "reusing running embedded PostgreSQL")
            }
            None => {
                self.start_server()?;
                self.started_here = true;
            }
        }
        let lease = lock_file(&self.root.join("users.lock"))?;
        lease.lock_shared().map_err(io_error(&self.root))?;
        self.lease = Some(lease);
        Ok(())
    }

    /// Options for connecting to the `tickwork` database over the Unix socket.
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username(&self.db_user)
            .database(DATABASE_NAME)
            .disable_statement_logging()
    }

    /// A description for messages: where the cluster is.
    pub fn describe(&self) -> String {
        format!("embedded cluster {}", self.data_dir.display())
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Creates the `tickwork` database if it does not exist yet.
    pub async fn ensure_database(&self) -> Result<(), EmbeddedError> {
        // Under the control lock: two Tickworks starting together must not both CREATE it
        // (PostgreSQL does not handle concurrent creation of one name gracefully).
        let path = self.root.join("control.lock");
        let control = tokio::task::spawn_blocking(move || {
            let file = lock_file(&path)?;
            file.lock().map_err(io_error(&path))?;
            Ok::<_, EmbeddedError>(file)
        })
        .await
        .map_err(|join| EmbeddedError::Command {
            command: "lock the embedded cluster".into(),
            message: join.to_string(),
        })??;
        let result = self.create_database_if_missing().await;
        drop(control);
        result
    }

    async fn create_database_if_missing(&self) -> Result<(), EmbeddedError> {
        let admin = self.connect_options().database("postgres");
        let mut conn = connect_with_retry(&admin).await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(DATABASE_NAME)
                .fetch_one(&mut conn)
                .await
                .map_err(|e| self.sql_error(e))?;
        if !exists {
            match sqlx::query(&format!("CREATE DATABASE {DATABASE_NAME}"))
                .execute(&mut conn)
                .await
            {
                Ok(_) => {}
                // Another Tickwork created it between our check and our CREATE (42P04 when it
                // had committed, 23505 when both were creating at once).
                Err(sqlx::Error::Database(db))
                    if matches!(db.code().as_deref(), Some("42P04" | "23505")) => {}
                Err(err) => return Err(self.sql_error(err)),
            }
        }
        Ok(())
    }

    fn sql_error(&self, err: sqlx::Error) -> EmbeddedError {
        EmbeddedError::Command {
            command: format!("SQL on {}", self.describe()),
            message: super::one_line(&err.to_string()),
        }
    }

    /// Releases this process's use and stops the server if nobody else uses it.
    /// Returns whether the server was stopped. Blocking (up to a minute): from async code use
    /// [`EmbeddedCluster::shutdown`].
    pub fn stop(mut self) -> Result<bool, EmbeddedError> {
        self.release()
    }

    /// [`EmbeddedCluster::stop`] on a blocking thread, for async callers: no runtime worker
    /// waits for `pg_ctl`. Returns whether the server was stopped.
    pub async fn shutdown(self) -> Result<bool, EmbeddedError> {
        tokio::task::spawn_blocking(move || self.stop())
            .await
            .unwrap_or_else(|join| {
                Err(EmbeddedError::Command {
                    command: "stop embedded server".into(),
                    message: join.to_string(),
                })
            })
    }

    fn release(&mut self) -> Result<bool, EmbeddedError> {
        let Some(lease) = self.lease.take() else {
            return Ok(false);
        };
        let control = lock_file(&self.root.join("control.lock"))?;
        control.lock().map_err(io_error(&self.root))?;
        drop(lease);
        let users = lock_file(&self.root.join("users.lock"))?;
        let last = users.try_lock().is_ok();
        if last {
            self.stop_server()?;
        }
        drop(users);
        drop(control);
        Ok(last)
    }

    fn prepare_dirs(&self) -> Result<(), EmbeddedError> {
        let run = &self.socket_dir;
        fs::create_dir_all(run).map_err(io_error(run))?;
        fs::set_permissions(run, fs::Permissions::from_mode(0o700)).map_err(io_error(run))?;
        if let Some(user) = &self.server_user {
            for dir in [&self.root, &self.socket_dir] {
                chown(dir, Some(user.uid), Some(user.gid)).map_err(io_error(dir))?;
            }
            if !user_can_traverse(&self.root, user)? {
                return Err(EmbeddedError::Unreachable {
                    user: user.name.clone(),
                    path: self.root.clone(),
                });
            }
        }
        fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
            .map_err(io_error(&self.root))?;
        Ok(())
    }

    fn init_cluster(&self) -> Result<(), EmbeddedError> {
        if self.data_dir.exists()
            && fs::read_dir(&self.data_dir)
                .map_err(io_error(&self.data_dir))?
                .next()
                .is_some()
        {
            return Err(EmbeddedError::NotADataDir {
                path: self.data_dir.clone(),
            });
        }
        // initdb into a scratch directory and rename, so a crash mid-way never leaves a
        // half-made cluster where a real one is expected.
        let scratch = self.root.join("data.initdb");
        if scratch.exists() {
            fs::remove_dir_all(&scratch).map_err(io_error(&scratch))?;
        }
        tracing::info!(dir = %self.data_dir.display(), "creating embedded PostgreSQL cluster");
        let mut initdb = self.server_command("initdb");
        initdb
            .arg("-D")
            .arg(&scratch)
            .arg("-U")
            .arg(&self.db_user)
            .args([
                "--auth-local=peer",
                "--auth-host=reject",
                "-E",
                "UTF8",
                "--no-locale",
            ]);
        run(&mut initdb, "initdb")?;
        let conf = scratch.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).map_err(io_error(&conf))?;
        text.push_str(&format!(
            "\n# Added by Tickwork: Unix socket only, never TCP.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 40\n",
            self.socket_dir.display().to_string().replace('\'', "''"),
        ));
        fs::write(&conf, text).map_err(io_error(&conf))?;
        if self.data_dir.exists() {
            fs::remove_dir(&self.data_dir).map_err(io_error(&self.data_dir))?;
        }
        fs::rename(&scratch, &self.data_dir).map_err(io_error(&self.data_dir))?;
        Ok(())
    }

    /// The postmaster's pid if a server for this data directory is running. A `postmaster.pid`
    /// left behind by a killed server, or pointing at a pid now used by another program, is
    /// removed.
    fn server_pid(&self) -> Result<Option<i32>, EmbeddedError> {
        let pid_file = self.data_dir.join("postmaster.pid");
        let first_line = match File::open(&pid_file) {
            Ok(file) => BufReader::new(file)
                .lines()
                .next()
                .transpose()
                .map_err(io_error(&pid_file))?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io_error(&pid_file)(err)),
        };
        let pid = first_line.and_then(|line| line.trim().parse::<i32>().ok());
        if let Some(pid) = pid
            && is_our_postmaster(pid, &self.data_dir)
        {
            return Ok(Some(pid));
        }
        tracing::warn!(file = %pid_file.display(), ?pid, "removing stale postmaster.pid");
        fs::remove_file(&pid_file).map_err(io_error(&pid_file))?;
        Ok(None)
    }

    fn start_server(&self) -> Result<(), EmbeddedError> {
        let log = self.root.join("server.log");
        if !log.exists() {
            File::create(&log).map_err(io_error(&log))?;
        }
        if let Some(user) = &self.server_user {
            chown(&log, Some(user.uid), Some(user.gid)).map_err(io_error(&log))?;
        }
        // Right after a crash, orphaned backends may still hold the old shared memory for a
        // moment; PostgreSQL then refuses to start, so try again briefly.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut pg_ctl = self.server_command("pg_ctl");
            pg_ctl
                .arg("start")
                .arg("-D")
                .arg(&self.data_dir)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60"])
                // Its own process group: a Ctrl-C in Tickwork's terminal must not reach the server.
                .process_group(0);
            match run(&mut pg_ctl, "pg_ctl start") {
                Ok(_) => {
                    tracing::info!(dir = %self.data_dir.display(), "started embedded PostgreSQL");
                    return Ok(());
                }
                Err(err) if Instant::now() < deadline => {
                    tracing::warn!(error = %err, "embedded PostgreSQL did not start; retrying");
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(EmbeddedError::Command { command, message }) => {
                    return Err(EmbeddedError::Command {
                        command,
                        message: format!("{message}; server log: {}", last_line(&log)),
                    });
                }
                Err(err) => return Err(err),
            }
        }
    }

    fn stop_server(&self) -> Result<(), EmbeddedError> {
        if self.server_pid()?.is_none() {
            return Ok(());
        }
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl
            .arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", "fast", "-w", "-t", "60"]);
        run(&mut pg_ctl, "pg_ctl stop")?;
        tracing::info!(dir = %self.data_dir.display(), "stopped embedded PostgreSQL");
        Ok(())
    }

    /// A command for one of the server binaries, run as the server user when we are root.
    fn server_command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        command
            .current_dir(&self.root)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .stdin(Stdio::null());
        if let Some(user) = &self.server_user {
            command.uid(user.uid).gid(user.gid);
        }
        command
    }
}

/// The last resort, for a cluster neither [`EmbeddedCluster::shutdown`] nor
/// [`EmbeddedCluster::stop`] released (an early return, a panic, a cancelled task).
impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        if self.lease.is_none() {
            return;
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            // `pg_ctl stop` here would block a runtime thread for up to a minute. Leave as a
            // crashed process would: the lease goes, the server stays for the next user.
            tracing::warn!(dir = %self.data_dir.display(),
                "embedded PostgreSQL released without shutdown(); leaving the server running \
                 for the next Tickwork to reuse");
            self.lease = None;
            return;
        }
        if let Err(err) = self.release() {
            tracing::error!(error = %err, "could not stop the embedded PostgreSQL cleanly");
        }
    }
}

async fn connect_with_retry(
    options: &PgConnectOptions,
) -> Result<sqlx::PgConnection, EmbeddedError> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match options.connect().await {
            Ok(conn) => return Ok(conn),
            Err(err) if Instant::now() >= deadline => {
                return Err(EmbeddedError::Command {
                    command: "connect to the embedded server".to_owned(),
                    message: super::one_line(&err.to_string()),
                });
            }
            // The server may still be finishing its start-up (or a crash recovery).
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

fn run(command: &mut Command, what: &str) -> Result<Output, EmbeddedError> {
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|err| EmbeddedError::Command {
            command: what.to_owned(),
            message: err.to_string(),
        })?;
    if output.status.success() {
        Ok(output)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let text = if stderr.trim().is_empty() {
            stdout
        } else {
            stderr
        };
        Err(EmbeddedError::Command {
            command: what.to_owned(),
            message: format!("{} ({})", super::one_line(&text), output.status),
        })
    }
}

fn last_line(path: &Path) -> String {
    fs::read_to_string(path)
        .ok()
        .and_then(|text| {
            text.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "(empty)".to_owned())
}

fn lock_file(path: &Path) -> Result<File, EmbeddedError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(io_error(path))
}

/// True when `pid` is a running postgres whose command line names this data directory.
fn is_our_postmaster(pid: i32, data_dir: &Path) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(comm) = fs::read_to_string(proc_dir.join("comm")) else {
        return false;
    };
    if !comm.trim().starts_with("postgres") {
        return false;
    }
    let Ok(cmdline) = fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    let wanted = data_dir.as_os_str().as_encoded_bytes();
    cmdline.split(|b| *b == 0).any(|arg| arg == wanted)
}

fn find_bin_dir(configured: Option<&Path>) -> Result<PathBuf, EmbeddedError> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = configured {
        return if has_tools(dir) {
            Ok(dir.to_path_buf())
        } else {
            Err(EmbeddedError::BinariesNotFound {
                searched: dir.display().to_string(),
            })
        };
    }
    // Debian keeps server binaries out of PATH, one directory per major version.
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versioned.sort();
    if let Some((_, bin)) = versioned.pop() {
        return Ok(bin);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| has_tools(dir))
        .ok_or_else(|| EmbeddedError::BinariesNotFound {
            searched: "/usr/lib/postgresql/*/bin and PATH".to_owned(),
        })
}

fn lookup_server_user(name: &str) -> Result<ServerUser, EmbeddedError> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(user)) if !user.uid.is_root() => Ok(ServerUser {
            name: name.to_owned(),
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
        }),
        _ => Err(EmbeddedError::NoServerUser {
            user: name.to_owned(),
        }),
    }
}

fn current_user_name() -> Result<String, EmbeddedError> {
    let uid = nix::unistd::geteuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) => Ok(user.name),
        _ => Err(EmbeddedError::Io {
            path: PathBuf::from("/etc/passwd"),
            message: format!("no user name for uid {uid}; the embedded database needs one"),
        }),
    }
}

/// Whether `user` may reach `path`: every ancestor must grant it search (x) permission.
fn user_can_traverse(path: &Path, user: &ServerUser) -> Result<bool, EmbeddedError> {
    let mut ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
    ancestors.reverse();
    for dir in ancestors {
        let meta = fs::metadata(dir).map_err(io_error(dir))?;
        let mode = meta.permissions().mode();
        use std::os::unix::fs::MetadataExt;
        let allowed = if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !allowed {
            return Ok(false);
        }
    }
    Ok(true)
}

//! Writing one batch into PostgreSQL: one transaction, a `COPY` per kind of row.
//!
//! The write is split in two so the caller can act between "everything is sent" and "commit":
//! [`prepare`] copies the batch and learns the transaction id, [`Prepared::commit`] commits. The
//! writer stores that id in the journal's commit marker before committing a replayed segment,
//! which is what makes a replay exactly-once (see [`super::journal`]).
//!
//! Errors are of two kinds. PostgreSQL refusing the *data* (SQLSTATE classes 22 and 23: a bad
//! value, a foreign key to an unknown instrument, a failed check) is permanent: retrying would
//! fail forever and block everything behind it. Then the batch is written again in careful mode,
//! each kind under a savepoint and halved until the refused rows are isolated; those come back
//! as [`Prepared::rejected`] and everything else is written. Every other error (connection lost,
//! server shutting down, timeout, missing table or permission) is transient: nothing was
//! written, and the caller spools the batch and retries later.
//!
//! These statements deliberately mirror `store::market_data` and `store::executions`, but run
//! inside the caller's transaction and stage through temporary tables so that several kinds and
//! several halves can share one transaction.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::batch::{Batch, RowCounts};
use super::journal::CommitMarker;
use super::record::CommissionReport;
use crate::domain::{Bar, Execution, Tick};
use crate::store::account_values::{self, AccountValue, copy_text};
use crate::store::one_line;

/// A batch sent and not yet committed.
pub struct Prepared {
    tx: Transaction<'static, Postgres>,
    pub marker: CommitMarker,
    /// Rows accepted, per kind (commission reports: those whose execution was found).
    pub written: RowCounts,
    /// Rows PostgreSQL refused as invalid.
    pub rejected: Batch,
    /// Commission reports for executions that are not in the database.
    pub unmatched_commissions: u64,
}

impl Prepared {
    /// Commits; an error here leaves the outcome unknown (ask [`txid_status`]).
    pub async fn commit(self) -> Result<(), String> {
        self.tx.commit().await.map_err(|e| one_line(&e.to_string()))
    }
}

/// Sends `batch` inside a new transaction. `Err` is a transient failure: nothing was written.
pub async fn prepare(pool: &PgPool, batch: &Batch) -> Result<Prepared, String> {
    match attempt(pool, batch, false).await {
        Ok(prepared) => Ok(prepared),
        Err(err) if is_data_error(&err) => {
            tracing::warn!(error = %one_line(&err.to_string()),
                "PostgreSQL refused a recorder batch; isolating the refused rows");
            attempt(pool, batch, true)
                .await
                .map_err(|e| one_line(&e.to_string()))
        }
        Err(err) => Err(one_line(&err.to_string())),
    }
}

/// What PostgreSQL says about a transaction that was committing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    Committed,
    /// Aborted, or not a transaction of this database: replay.
    NotCommitted,
    /// Still running (its connection has not been noticed as gone yet): ask again later.
    InProgress,
}

/// Asks whether the transaction named by `marker` committed. `Err` is transient.
pub async fn txid_status(pool: &PgPool, marker: &CommitMarker) -> Result<TxStatus, String> {
    let server = server_id(pool)
        .await
        .map_err(|e| one_line(&e.to_string()))?;
    let database: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .map_err(|e| one_line(&e.to_string()))?;
    let same_server = server == 0 || marker.server == 0 || server == marker.server;
    if database != marker.database || !same_server {
        tracing::warn!(marker = %marker.database, marker_server = marker.server,
            now = %database, now_server = server,
            "journal commit marker is from another database; replaying the segment");
        return Ok(TxStatus::NotCommitted);
    }
    let status: Result<Option<String>, sqlx::Error> =
        sqlx::query_scalar("SELECT txid_status($1)::text")
            .bind(marker.txid)
            .fetch_one(pool)
            .await;
    match status {
        Ok(Some(s)) if s == "committed" => Ok(TxStatus::Committed),
        Ok(Some(s)) if s == "in progress" => Ok(TxStatus::InProgress),
        Ok(Some(_)) => Ok(TxStatus::NotCommitted),
        // NULL: so old that PostgreSQL no longer keeps its status. Replaying may duplicate
        // ticks, which is better than losing them.
        Ok(None) => {
            tracing::warn!(
                txid = marker.txid,
                "status of a journal commit is no longer known; replaying"
            );
            Ok(TxStatus::NotCommitted)
        }
        // "transaction ID … is in the future": not a transaction of this server.
        Err(err) if is_data_error(&err) => Ok(TxStatus::NotCommitted),
        Err(err) => Err(one_line(&err.to_string())),
    }
}

/// PostgreSQL refused the data itself (data exception or integrity constraint violation).
fn is_data_error(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
        _ => false,
    }
}

/// The cluster's `system_identifier`, or 0 where `pg_control_system()` is not allowed. Asked
/// outside the batch's transaction, so a refusal cannot abort it.
async fn server_id(pool: &PgPool) -> Result<i64, sqlx::Error> {
    match sqlx::query_scalar("SELECT system_identifier FROM pg_control_system()")
        .fetch_one(pool)
        .await
    {
        Ok(id) => Ok(id),
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42501") => Ok(0),
        Err(err) => Err(err),
    }
}

async fn attempt(pool: &PgPool, batch: &Batch, careful: bool) -> Result<Prepared, sqlx::Error> {
    let server = server_id(pool).await?;
    let mut tx = pool.begin().await?;
    let (txid, database): (i64, String) =
        sqlx::query_as("SELECT txid_current(), current_database()")
            .fetch_one(&mut *tx)
            .await?;
    let mut out = Outcome::default();
    let groups = [
        Group::Executions(&batch.executions),
        Group::Commissions(&batch.commissions),
        Group::Bars(&batch.bars),
        Group::AccountValues(&batch.account_values),
        Group::Ticks(&batch.ticks),
    ];
    for group in groups.into_iter().filter(|g| g.len() > 0) {
        if careful {
            write_isolating(&mut tx, group, &mut out).await?;
        } else {
            out.add(group, write(&mut tx, group).await?);
        }
    }
    Ok(Prepared {
        tx,
        marker: CommitMarker {
            txid,
            server,
            database,
        },
        written: out.written,
        rejected: out.rejected,
        unmatched_commissions: out.unmatched,
    })
}

#[derive(Default)]
struct Outcome {
    written: RowCounts,
    rejected: Batch,
    unmatched: u64,
}

impl Outcome {
    fn add(&mut self, group: Group<'_>, unmatched: u64) {
        let n = group.len() as u64;
        let w = &mut self.written;
        match group {
            Group::Ticks(_) => w.ticks += n,
            Group::Bars(_) => w.bars += n,
            Group::Executions(_) => w.executions += n,
            Group::Commissions(_) => w.commissions += n - unmatched,
            Group::AccountValues(_) => w.account_values += n,
        }
        self.unmatched += unmatched;
    }
}

/// Rows of one kind, borrowed from the batch.
#[derive(Clone, Copy)]
enum Group<'a> {
    Ticks(&'a [Tick]),
    Bars(&'a [Bar]),
    Executions(&'a [Execution]),
    Commissions(&'a [CommissionReport]),
    AccountValues(&'a [AccountValue]),
}

impl<'a> Group<'a> {
    fn len(&self) -> usize {
        match self {
            Group::Ticks(s) => s.len(),
            Group::Bars(s) => s.len(),
            Group::Executions(s) => s.len(),
            Group::Commissions(s) => s.len(),
            Group::AccountValues(s) => s.len(),
        }
    }

    fn halves(self) -> (Group<'a>, Group<'a>) {
        let mid = self.len() / 2;
        match self {
            Group::Ticks(s) => (Group::Ticks(&s[..mid]), Group::Ticks(&s[mid..])),
            Group::Bars(s) => (Group::Bars(&s[..mid]), Group::Bars(&s[mid..])),
            Group::Executions(s) => (Group::Executions(&s[..mid]), Group::Executions(&s[mid..])),
            Group::Commissions(s) => (Group::Commissions(&s[..mid]), Group::Commissions(&s[mid..])),
            Group::AccountValues(s) => (
                Group::AccountValues(&s[..mid]),
                Group::AccountValues(&s[mid..]),
            ),
        }
    }

    fn reject_into(self, batch: &mut Batch) {
        match self {
            Group::Ticks(s) => batch.ticks.extend_from_slice(s),
            Group::Bars(s) => batch.bars.extend_from_slice(s),
            Group::Executions(s) => batch.executions.extend_from_slice(s),
            Group::Commissions(s) => batch.commissions.extend_from_slice(s),
            Group::AccountValues(s) => batch.account_values.extend_from_slice(s),
        }
    }
}

/// Writes a group under savepoints, halving any part PostgreSQL refuses until the refused rows
/// are single; those are set aside in `out.rejected`.
async fn write_isolating(
    conn: &mut PgConnection,
    group: Group<'_>,
    out: &mut Outcome,
) -> Result<(), sqlx::Error> {
    let mut stack = vec![group];
    while let Some(part) = stack.pop() {
        sqlx::query("SAVEPOINT recorder_part")
            .execute(&mut *conn)
            .await?;
        match write(conn, part).await {
            Ok(unmatched) => {
                sqlx::query("RELEASE SAVEPOINT recorder_part")
                    .execute(&mut *conn)
                    .await?;
                out.add(part, unmatched);
            }
            Err(err) if is_data_error(&err) => {
                sqlx::query("ROLLBACK TO SAVEPOINT recorder_part")
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("RELEASE SAVEPOINT recorder_part")
                    .execute(&mut *conn)
                    .await?;
                if part.len() == 1 {
                    tracing::error!(error = %one_line(&err.to_string()),
                        "PostgreSQL refused a recorded row; it is kept in rejected.journal");
                    part.reject_into(&mut out.rejected);
                } else {
                    let (first, second) = part.halves();
                    stack.push(second);
                    stack.push(first);
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Writes one group; returns the number of unmatched commission reports.
async fn write(conn: &mut PgConnection, group: Group<'_>) -> Result<u64, sqlx::Error> {
    match group {
        Group::Ticks(ticks) => copy_ticks(conn, ticks).await.map(|_| 0),
        Group::Bars(bars) => upsert_bars(conn, bars).await.map(|_| 0),
        Group::Executions(fills) => insert_executions(conn, fills).await.map(|_| 0),
        Group::Commissions(reports) => attach_commissions(conn, reports).await,
        Group::AccountValues(values) => account_values::copy_values_in(conn, values)
            .await
            .map(|_| 0),
    }
}

/// Formats the rows of a `COPY` for `ticks`.
fn ticks_text(ticks: &[Tick]) -> String {
    let mut text = String::with_capacity(ticks.len() * 64);
    for t in ticks {
        let _ = write!(text, "{}\t", t.instrument_id);
        push_time(&mut text, t.ts);
        let _ = write!(text, "\t{}\t", t.kind.code());
        push_opt(&mut text, t.price);
        text.push('\t');
        push_opt(&mut text, t.size);
        text.push('\n');
    }
    text
}

async fn copy_ticks(conn: &mut PgConnection, ticks: &[Tick]) -> Result<u64, sqlx::Error> {
    let text = ticks_text(ticks);
    let mut copy = conn
        .copy_in_raw("COPY ticks (instrument_id, ts, kind, price, size) FROM STDIN")
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await
}

async fn upsert_bars(conn: &mut PgConnection, bars: &[Bar]) -> Result<u64, sqlx::Error> {
    let mut text = String::with_capacity(bars.len() * 96);
    for (seq, b) in bars.iter().enumerate() {
        let _ = write!(text, "{seq}\t{}\t{}\t", b.instrument_id, b.bar_seconds);
        push_time(&mut text, b.ts);
        let _ = writeln!(
            text,
            "\t{}\t{}\t{}\t{}\t{}",
            b.open, b.high, b.low, b.close, b.volume
        );
    }
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS recorder_bars (seq BIGINT, LIKE bars) ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await?;
    let mut copy = conn
        .copy_in_raw(
            "COPY recorder_bars (seq, instrument_id, bar_seconds, ts, open, high, low, close, \
             volume) FROM STDIN",
        )
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    // The latest revision of a bar wins, within the batch (seq) and against the table.
    let done = sqlx::query(
        "INSERT INTO bars (instrument_id, bar_seconds, ts, open, high, low, close, volume) \
         SELECT DISTINCT ON (instrument_id, bar_seconds, ts) instrument_id, bar_seconds, ts, \
         open, high, low, close, volume FROM recorder_bars \
         ORDER BY instrument_id, bar_seconds, ts, seq DESC \
         ON CONFLICT (instrument_id, bar_seconds, ts) DO UPDATE SET open = EXCLUDED.open, \
         high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("TRUNCATE recorder_bars")
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

async fn insert_executions(
    conn: &mut PgConnection,
    fills: &[Execution],
) -> Result<u64, sqlx::Error> {
    let mut text = String::with_capacity(fills.len() * 160);
    for (seq, e) in fills.iter().enumerate() {
        let _ = write!(
            text,
            "{seq}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t",
            copy_text(&e.exec_id),
            e.order_ref.as_deref().map_or("\\N".into(), copy_text),
            e.tws_order_id.map_or("\\N".into(), |v| v.to_string()),
            e.tws_perm_id.map_or("\\N".into(), |v| v.to_string()),
            copy_text(&e.account),
            e.instrument_id,
            e.side.as_str(),
            e.quantity,
            e.price,
        );
        push_opt(&mut text, e.commission);
        let _ = write!(
            text,
            "\t{}\t",
            e.commission_currency
                .as_deref()
                .map_or("\\N".into(), copy_text)
        );
        push_opt(&mut text, e.realized_pnl);
        text.push('\t');
        push_time(&mut text, e.executed_at);
        text.push('\n');
    }
    sqlx::query(
        "CREATE TEMP TABLE IF NOT EXISTS recorder_executions \
         (seq BIGINT, LIKE executions INCLUDING DEFAULTS) ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await?;
    let columns = "exec_id, order_ref, tws_order_id, tws_perm_id, account, instrument_id, side, \
                   quantity, price, commission, commission_currency, realized_pnl, executed_at";
    let mut copy = conn
        .copy_in_raw(&format!(
            "COPY recorder_executions (seq, {columns}) FROM STDIN"
        ))
        .await?;
    copy.send(text.into_bytes()).await?;
    copy.finish().await?;
    // Keyed by exec_id: an execution already stored (a replay, a resync) is left as it is.
    let done = sqlx::query(&format!(
        "INSERT INTO executions ({columns}) SELECT DISTINCT ON (exec_id) {columns} \
         FROM recorder_executions ORDER BY exec_id, seq ON CONFLICT (exec_id) DO NOTHING"
    ))
    .execute(&mut *conn)
    .await?;
    sqlx::query("TRUNCATE recorder_executions")
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Commission reports are few (one per fill): one prepared `UPDATE` each, after the batch's
/// executions. Returns how many found no execution.
async fn attach_commissions(
    conn: &mut PgConnection,
    reports: &[CommissionReport],
) -> Result<u64, sqlx::Error> {
    let mut unmatched = 0;
    for report in reports {
        let done = sqlx::query(
            "UPDATE executions SET commission = $2, commission_currency = $3, \
             realized_pnl = $4 WHERE exec_id = $1",
        )
        .bind(&report.exec_id)
        .bind(report.commission)
        .bind(&report.currency)
        .bind(report.realized_pnl)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 0 {
            tracing::warn!(exec_id = %report.exec_id,
                "commission report for an execution that is not recorded");
            unmatched += 1;
        }
    }
    Ok(unmatched)
}

/// `YYYY-MM-DD HH:MM:SS.ffffff+00`: PostgreSQL keeps microseconds; formatting by hand is several
/// times faster than chrono's formatter, and ticks are most of what the recorder writes.
fn push_time(out: &mut String, ts: DateTime<Utc>) {
    let micros = (ts.nanosecond() % 1_000_000_000) / 1000;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00",
        ts.year(),
        ts.month(),
        ts.day(),
        ts.hour(),
        ts.minute(),
        ts.second(),
        micros
    );
}

fn push_opt(out: &mut String, value: Option<Decimal>) {
    match value {
        Some(d) => {
            let _ = write!(out, "{d}");
        }
        None => out.push_str("\\N"),
    }
}

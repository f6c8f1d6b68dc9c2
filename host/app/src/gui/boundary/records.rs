//! What the workbench recorded and how the session is doing: the audit log, reconciliation
//! reports, market data lines and pacing, and the database.

use tickwork_core::session::LineStatus;
use tickwork_core::store::DbStatus;
use tickwork_core::store::audit::{AuditFacets, AuditFilter, AuditRecord};
use tickwork_core::store::sync_reports::SyncReportRow;

#[derive(Debug, Clone)]
pub enum RecordsCommand {
    /// Audit entries matching a filter, newest first; answered with [`RecordsEvent::Audit`].
    Audit { filter: AuditFilter },
    /// The actors, actions and accounts logged (for the audit filters).
    AuditFacets,
    /// Lines in use / limit / queue and the historical pacing budget of the session.
    Status,
    /// The newest reconciliation reports.
    Reports { limit: i64 },
    /// The database: where it is and its migrations.
    Database,
}

#[derive(Debug, Clone)]
pub enum RecordsEvent {
    Audit {
        filter: AuditFilter,
        entries: Vec<AuditRecord>,
    },
    AuditFacets(AuditFacets),
    /// `None` when no session runs.
    Status(Option<LineStatus>),
    Reports(Vec<SyncReportRow>),
    Database {
        describe: String,
        status: Result<DbStatus, String>,
    },
}

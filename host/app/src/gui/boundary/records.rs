//! What the workbench recorded: the audit log and reconciliation reports.

use tickwork_core::store::audit::AuditRecord;

#[derive(Debug, Clone)]
pub enum RecordsCommand {
    /// The newest audit entries.
    Audit { limit: i64 },
}

#[derive(Debug, Clone)]
pub enum RecordsEvent {
    Audit(Vec<AuditRecord>),
}

//! Records commands: the audit log and reconciliation reports.

use tickwork_core::store::audit;

use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{RecordsCommand, RecordsEvent};

pub async fn handle(services: Services, command: RecordsCommand) {
    match command {
        RecordsCommand::Audit { limit } => match audit::recent(&services.pool, limit).await {
            Ok(entries) => services.tell(RecordsEvent::Audit(entries)),
            Err(err) => services.problem("audit log", err),
        },
    }
}

/// Updates this panel group follows while a session runs.
pub fn follow(_services: &Services, _live: &Live) -> Vec<JoinHandle<()>> {
    Vec::new()
}

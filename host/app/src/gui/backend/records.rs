//! Records commands: the audit log, reconciliation reports, the session's lines and pacing,
//! and the database.

use tickwork_core::store::{Store, audit, sync_reports};
use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{RecordsCommand, RecordsEvent};

/// Most audit entries one request returns (the viewer pages with "Load more").
pub const AUDIT_PAGE_MAX: i64 = 500;

pub async fn handle(services: Services, command: RecordsCommand) {
    match command {
        RecordsCommand::Audit { mut filter } => {
            filter.limit = filter.limit.clamp(1, AUDIT_PAGE_MAX);
            match audit::filtered(&services.pool, &filter).await {
                Ok(entries) => services.tell(RecordsEvent::Audit { filter, entries }),
                Err(err) => services.problem("audit log", err),
            }
        }
        RecordsCommand::AuditFacets => match audit::facets(&services.pool).await {
            Ok(facets) => services.tell(RecordsEvent::AuditFacets(facets)),
            Err(err) => services.problem("audit log", err),
        },
        RecordsCommand::Status => {
            let status = match &services.live {
                Some(live) => live.session.line_status().await.ok(),
                None => None,
            };
            services.tell(RecordsEvent::Status(status));
        }
        RecordsCommand::Reports { limit } => {
            match sync_reports::recent(&services.pool, limit.clamp(1, 100)).await {
                Ok(rows) => services.tell(RecordsEvent::Reports(rows)),
                Err(err) => services.problem("reconciliation reports", err),
            }
        }
        RecordsCommand::Database => {
            let status = Store::from_pool(services.pool.clone())
                .status()
                .await
                .map_err(|e| e.to_string());
            services.tell(RecordsEvent::Database {
                describe: describe(&services.pool),
                status,
            });
        }
    }
}

/// Where the pool connects, without any password.
fn describe(pool: &sqlx::PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "PostgreSQL {}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap_or(o.get_username())
    )
}

/// Updates this panel group follows while a session runs: none — the connection panel polls
/// [`RecordsCommand::Status`] while it is shown, and reports arrive as
/// `SessionEvent::Synchronised`.
pub fn follow(_services: &Services, _live: &Live) -> Vec<JoinHandle<()>> {
    Vec::new()
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::json;
    use sqlx::PgPool;
    use tickwork_core::store::audit::{AuditEntry, AuditFilter};

    use super::*;
    use crate::gui::backend::Notify;
    use crate::gui::boundary::Notification;

    /// Services on `pool` without a session, and what they told the window.
    pub fn services(pool: PgPool) -> (Services, Arc<Mutex<Vec<Notification>>>) {
        let told = Arc::new(Mutex::new(Vec::new()));
        let into = told.clone();
        let notify: Notify = Arc::new(move |n| into.lock().unwrap().push(n));
        let services = Services {
            pool,
            notify,
            live: None,
        };
        (services, told)
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn audit_is_filtered_and_the_page_size_bounded(pool: PgPool) {
        for (actor, account) in [("ui", "DU1"), ("script:sma", "DU2"), ("ui", "DU2")] {
            audit::append(
                &pool,
                &AuditEntry {
                    actor: actor.into(),
                    action: "order.intent".into(),
                    decision: Some("allowed".into()),
                    reason: None,
                    details: json!({"account": account}),
                },
            )
            .await
            .unwrap();
        }
        let (services, told) = services(pool);
        let filter = AuditFilter {
            origin: Some("ui".into()),
            account: Some("DU2".into()),
            limit: 1_000_000,
            ..AuditFilter::default()
        };
        handle(services.clone(), RecordsCommand::Audit { filter }).await;
        handle(services, RecordsCommand::Database).await;
        let told = told.lock().unwrap();
        let Notification::Records(RecordsEvent::Audit { filter, entries }) = &told[0] else {
            panic!("{told:?}")
        };
        assert_eq!(filter.limit, AUDIT_PAGE_MAX);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].details["account"], "DU2");
        let Notification::Records(RecordsEvent::Database { describe, status }) = &told[1] else {
            panic!("{told:?}")
        };
        assert!(describe.starts_with("PostgreSQL "), "{describe}");
        assert!(!status.as_ref().unwrap().migrations.is_empty());
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn status_without_a_session_is_none(pool: PgPool) {
        let (services, told) = services(pool);
        handle(services, RecordsCommand::Status).await;
        assert!(matches!(
            told.lock().unwrap()[0],
            Notification::Records(RecordsEvent::Status(None))
        ));
    }
}

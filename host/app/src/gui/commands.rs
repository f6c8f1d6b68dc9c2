//! The window's requests to the core, as one typed enum, served on the core runtime.
//!
//! The window never calls the core directly: it sends a [`Command`], the backend carries it out
//! (through the one order path, so arming and the kill switch are audited like everything else)
//! and answers with [`Notification`]s. Nothing here blocks the GTK main loop.

use std::sync::Arc;

use tickwork_core::risk::OrderRouter;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::backend::Notification;

/// From the window to the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Allow trading on an account (the window asked the trader to confirm first).
    Arm {
        account: String,
    },
    Disarm {
        account: String,
    },
    /// Disarm everything and cancel every working order; with TWS's global cancel if asked.
    KillSwitch {
        global_cancel: bool,
    },
}

/// What the header bar shows about trading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradingState {
    pub accounts: Vec<String>,
    pub armed: Vec<String>,
    /// The kill switch is engaged: nothing can be armed until it is reset.
    pub halted: bool,
}

/// Serves commands until the window's sender is gone. Without a router (no session), every
/// command is refused with the reason.
pub fn serve(
    router: Option<OrderRouter>,
    accounts: Vec<String>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    notify: Arc<dyn Fn(Notification) + Send + Sync>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Some(router) = &router {
            notify(Notification::Trading(state(router, &accounts).await));
        }
        while let Some(command) = commands.recv().await {
            let Some(router) = &router else {
                notify(Notification::Refused(
                    "not connected to TWS: connect a profile first".into(),
                ));
                continue;
            };
            let result = match &command {
                Command::Arm { account } => router.arm(account, "ui").await,
                Command::Disarm { account } => router.disarm(account, "ui").await,
                Command::KillSwitch { global_cancel } => router.kill_switch("ui", *global_cancel),
            };
            if let Err(err) = result {
                tracing::warn!(?command, error = %err, "refused");
                notify(Notification::Refused(err.to_string()));
            }
            notify(Notification::Trading(state(router, &accounts).await));
        }
    })
}

async fn state(router: &OrderRouter, accounts: &[String]) -> TradingState {
    let mut armed = Vec::new();
    for account in accounts {
        if router.is_armed(account).await {
            armed.push(account.clone());
        }
    }
    TradingState {
        accounts: accounts.to_vec(),
        armed,
        halted: *router.halted().borrow(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::PgPool;
    use tickwork_core::risk::{RiskGate, RiskLimits, order_path};

    use super::*;

    /// Serves commands and hands every notification to the test.
    fn serving(
        router: Option<OrderRouter>,
    ) -> (
        mpsc::UnboundedSender<Command>,
        mpsc::UnboundedReceiver<Notification>,
    ) {
        let (commands, rx) = mpsc::unbounded_channel();
        let (tx, notifications) = mpsc::unbounded_channel();
        serve(
            router,
            vec!["DU1".into()],
            rx,
            Arc::new(move |n| {
                let _ = tx.send(n);
            }),
        );
        (commands, notifications)
    }

    async fn next(notifications: &mut mpsc::UnboundedReceiver<Notification>) -> Notification {
        tokio::time::timeout(Duration::from_secs(10), notifications.recv())
            .await
            .expect("a notification")
            .expect("the server runs")
    }

    async fn trading(notifications: &mut mpsc::UnboundedReceiver<Notification>) -> TradingState {
        match next(notifications).await {
            Notification::Trading(state) => state,
            other => panic!("expected the trading state, got {other:?}"),
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn arm_kill_switch_and_refusals_reach_the_window(pool: PgPool) {
        let (router, _inbox) = order_path(RiskGate::new(RiskLimits::default()), pool.clone());
        let (commands, mut notifications) = serving(Some(router));
        assert_eq!(
            trading(&mut notifications).await.armed,
            Vec::<String>::new()
        );

        commands
            .send(Command::Arm {
                account: "DU1".into(),
            })
            .unwrap();
        assert_eq!(trading(&mut notifications).await.armed, vec!["DU1"]);

        commands
            .send(Command::KillSwitch {
                global_cancel: false,
            })
            .unwrap();
        let state = trading(&mut notifications).await;
        assert!(state.halted && state.armed.is_empty(), "{state:?}");

        commands
            .send(Command::Arm {
                account: "DU1".into(),
            })
            .unwrap();
        match next(&mut notifications).await {
            Notification::Refused(reason) => {
                assert!(reason.contains("kill switch is engaged"), "{reason}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(trading(&mut notifications).await.armed.is_empty());
        // Each step went through the order path: the arm is in the audit log.
        let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(actions.contains(&"trading.arm".to_owned()), "{actions:?}");
    }

    #[tokio::test]
    async fn without_a_session_every_command_is_refused_with_the_reason() {
        let (commands, mut notifications) = serving(None);
        commands
            .send(Command::KillSwitch {
                global_cancel: true,
            })
            .unwrap();
        match next(&mut notifications).await {
            Notification::Refused(reason) => assert!(reason.starts_with("not connected to TWS")),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}

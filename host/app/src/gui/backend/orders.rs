//! Order commands: preview, place, cancel, and the blotter's data.

use chrono::{Duration as Days, Utc};
use tickwork_core::store::{executions, orders};
use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{OrderCommand, OrderEvent, SessionEvent};

pub async fn handle(services: Services, command: OrderCommand) {
    match command {
        OrderCommand::Preview { intent } => {
            let Some(live) = services.live_or_refuse() else {
                return;
            };
            let refusal = match live
                .view
                .context_for(&services.pool, &intent, true, None)
                .await
            {
                Ok(ctx) => live
                    .router
                    .preview(&intent, &ctx)
                    .await
                    .err()
                    .map(|d| d.to_string()),
                Err(err) => Some(format!("the risk context is unavailable: {err}")),
            };
            services.tell(OrderEvent::Preview { intent, refusal });
        }
        OrderCommand::Place { intent } => {
            let Some(live) = services.live_or_refuse() else {
                return;
            };
            let ctx = match live
                .view
                .context_for(&services.pool, &intent, true, None)
                .await
            {
                Ok(ctx) => ctx,
                Err(err) => return services.problem("the risk context is unavailable", err),
            };
            match live.router.submit(*intent, &ctx).await {
                Ok(order_ref) => services.tell(OrderEvent::Placed { order_ref }),
                Err(err) => services.tell(SessionEvent::Refused(err.to_string())),
            }
        }
        OrderCommand::Cancel { order_ref } => {
            let Some(live) = services.live_or_refuse() else {
                return;
            };
            if let Err(err) = live.router.cancel(&order_ref, "ui").await {
                services.tell(SessionEvent::Refused(err.to_string()));
            }
        }
        OrderCommand::Refresh => refresh(&services).await,
    }
}

async fn refresh(services: &Services) {
    let working = match orders::all_working(&services.pool).await {
        Ok(working) => working,
        Err(err) => return services.problem("working orders", err),
    };
    let mut fills = Vec::new();
    if let Some(live) = &services.live {
        let since = Utc::now() - Days::hours(24);
        let accounts: std::collections::BTreeSet<String> = working
            .iter()
            .map(|o| o.account.clone())
            .chain(live.profile.account.clone())
            .collect();
        for account in accounts {
            match executions::since(&services.pool, &account, since).await {
                Ok(found) => fills.extend(found),
                Err(err) => return services.problem("executions", err),
            }
        }
    }
    services.tell(OrderEvent::Blotter {
        orders: working,
        executions: fills,
    });
}

/// Order updates and fills refresh the blotter.
pub fn follow(services: &Services, live: &Live) -> Vec<JoinHandle<()>> {
    let mut updates = live.hub.subscribe_orders();
    let mut fills = live.hub.subscribe_fills();
    let services = services.clone();
    vec![tokio::spawn(async move {
        loop {
            tokio::select! {
                update = updates.recv() => if update.is_none() { return },
                fill = fills.recv() => if fill.is_none() { return },
            }
            refresh(&services).await;
        }
    })]
}

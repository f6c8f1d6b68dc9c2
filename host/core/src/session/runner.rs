//! The session's task: connect, synchronise, stream, trade, and start over when the connection
//! goes away.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ibapi::Client;
use ibapi::accounts::PositionUpdate;
use ibapi::orders::OrderUpdate as IbOrderUpdate;
use ibapi::subscriptions::SubscriptionItem;
use sqlx::PgPool;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::history;
use super::lines::{LineAction, LineManager};
use super::market_data::{self, LineEvent};
use super::order_flow::{self, InstrumentCache};
use super::order_ids::OrderIds;
use super::pacing::HistoricalPacer;
use super::positions::{Holdings, PositionStream};
use super::resend;
use super::state::{ConnectionState, Reaction, SessionEvent, transition};
use super::sync::{self, SyncReport};
use super::{SessionCommand, SessionConfig};
use crate::domain::{InstrumentSpec, Quote};
use crate::hub::Hub;
use crate::recorder::Recorder;
use crate::risk::{Approved, Command, OrderInbox};
use crate::store::market_data as market_data_store;
use crate::store::{instruments, orders, sync_reports};

mod offline;

/// Why a connected period ended.
enum Exit {
    Stop,
    Lost(String),
}

pub(super) struct Runner {
    config: SessionConfig,
    hub: Arc<Hub>,
    pool: PgPool,
    orders: OrderInbox,
    commands: mpsc::Receiver<SessionCommand>,
    recorder: Option<Recorder>,
    reports: watch::Sender<Option<SyncReport>>,
    client_id: i32,
    /// Cancels asked for while disconnected: carried out first thing after the reconnect.
    pending_cancels: BTreeSet<String>,
    /// The kill switch engaged while disconnected (with TWS's global cancel or not).
    pending_kill: Option<bool>,
    state: ConnectionState,
    lines: LineManager,
    specs: HashMap<i64, InstrumentSpec>,
    line_tasks: HashMap<i64, JoinHandle<()>>,
    quotes: HashMap<i64, Quote>,
    ids: OrderIds,
    cache: InstrumentCache,
    holdings: Holdings,
    /// Shared by every historical request of this session.
    pacer: Arc<tokio::sync::Mutex<HistoricalPacer>>,
    /// Positions after the synchronisation's snapshot; every change is recorded.
    positions_stream: Option<PositionStream>,
}

impl Runner {
    pub(super) fn new(
        config: SessionConfig,
        hub: Arc<Hub>,
        pool: PgPool,
        orders: OrderInbox,
        commands: mpsc::Receiver<SessionCommand>,
        recorder: Option<Recorder>,
        reports: watch::Sender<Option<SyncReport>>,
    ) -> Self {
        let client_id = config.profile.client_id;
        let lines = LineManager::new(config.line_limit);
        Self {
            config,
            hub,
            pool,
            orders,
            commands,
            recorder,
            reports,
            client_id,
            pending_cancels: BTreeSet::new(),
            pending_kill: None,
            state: ConnectionState::Disconnected,
            lines,
            specs: HashMap::new(),
            line_tasks: HashMap::new(),
            quotes: HashMap::new(),
            ids: OrderIds::default(),
            cache: InstrumentCache::default(),
            holdings: Holdings::default(),
            pacer: Arc::default(),
            positions_stream: None,
        }
    }

    fn event(&mut self, event: SessionEvent) -> Reaction {
        let (next, reaction) = transition(&self.state, &event);
        if next != self.state {
            tracing::info!(profile = %self.config.profile.name, state = %next.label(), "session state");
            self.state = next.clone();
            self.hub.set_connection(next);
        }
        reaction
    }

    pub(super) async fn run(mut self) {
        if !crate::store::profiles::is_loopback(&self.config.profile.host) {
            tracing::warn!(
                host = %self.config.profile.host,
                "connecting to TWS on another machine: the TWS API is unencrypted and unauthenticated"
            );
        }
        let mut backoff = self.config.initial_backoff;
        loop {
            self.event(SessionEvent::ConnectStarted);
            let address = format!("{}:{}", self.config.profile.host, self.config.profile.port);
            let connected = Client::builder()
                .address(address.clone())
                .client_id(self.client_id)
                .max_reconnect_attempts(0)
                .rate_limiter(ibapi::RateLimiter::per_second(
                    self.config.max_messages_per_second,
                ))
                .connect_with_notice_stream()
                .await;
            match connected {
                Ok((client, notices)) => {
                    backoff = self.config.initial_backoff;
                    let client = Arc::new(client);
                    let exit = self.live(client.clone(), notices).await;
                    self.stop_lines();
                    self.positions_stream = None;
                    client.disconnect().await;
                    match exit {
                        Exit::Stop => break,
                        Exit::Lost(why) => {
                            tracing::warn!(%why, "connection to TWS lost");
                            self.event(SessionEvent::SocketLost);
                        }
                    }
                }
                Err(ibapi::Error::ClientIdInUse { .. }) if self.config.profile.auto_client_id => {
                    tracing::warn!(
                        client_id = self.client_id,
                        "client id in use (326); trying the next one"
                    );
                    self.client_id += 1;
                    continue;
                }
                Err(err) => {
                    tracing::warn!(%address, error = %err, retry_in = ?backoff, "cannot connect to TWS");
                    self.event(SessionEvent::SocketLost);
                }
            }
            if self.wait_backoff(backoff).await {
                break;
            }
            backoff = (backoff * 2).min(self.config.max_backoff);
        }
        self.event(SessionEvent::Stopped);
    }

    /// Sleeps for `delay` while still answering commands; `true` if asked to stop.
    async fn wait_backoff(&mut self, delay: Duration) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return false,
                command = self.commands.recv() => match command {
                    None | Some(SessionCommand::Stop) => return true,
                    Some(command) => self.offline_command(command).await,
                },
                Some(approved) = self.orders.recv() => self.offline_order(approved),
            }
        }
    }

    async fn offline_command(&mut self, command: SessionCommand) {
        match command {
            SessionCommand::Watch { spec, reply } => {
                let result = self.watch(None, *spec).await;
                let _ = reply.send(result);
            }
            SessionCommand::Unwatch { instrument_id } => self.unwatch(None, instrument_id),
            SessionCommand::LineQueue { reply } => {
                let _ = reply.send(self.lines.queue());
            }
            SessionCommand::LineStatus { reply } => self.line_status(reply),
            SessionCommand::WhatIf { reply, .. } => {
                let _ = reply.send(Err("not connected to TWS".into()));
            }
            SessionCommand::History { reply, .. } => {
                let _ = reply.send(Err("not connected to TWS".into()));
            }
            SessionCommand::Search { reply, .. } => {
                let _ = reply.send(Err("not connected to TWS".into()));
            }
            SessionCommand::Stop => {}
        }
    }

    async fn live(
        &mut self,
        client: Arc<Client>,
        mut notices: ibapi::subscriptions::NoticeStream,
    ) -> Exit {
        // The update stream first, then the snapshots: no event can fall between them.
        let mut updates = match client.order_update_stream().await {
            Ok(updates) => updates,
            Err(err) => return Exit::Lost(format!("order update stream: {err}")),
        };
        self.event(SessionEvent::Connected);
        if let Err(why) = self.resync(&client, "connect").await {
            return Exit::Lost(why);
        }
        let (line_tx, mut line_rx) = mpsc::channel::<LineEvent>(1024);
        self.start_lines(&client, &line_tx, self.lines.active());
        self.event(SessionEvent::SyncFinished);

        let mut check = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                notice = notices.next() => {
                    let Some(notice) = notice else { return Exit::Lost("notice stream ended".into()) };
                    tracing::info!(code = notice.code, message = %notice.message, "TWS notice");
                    match self.event(SessionEvent::Notice { code: notice.code, message: notice.message.clone() }) {
                        Reaction::Nothing => {}
                        Reaction::Resync => {
                            if let Err(why) = self.resync(&client, "1102").await { return Exit::Lost(why) }
                            self.event(SessionEvent::SyncFinished);
                        }
                        Reaction::ResyncAndResubscribe => {
                            if let Err(why) = self.resync(&client, "1101").await { return Exit::Lost(why) }
                            self.stop_lines();
                            self.start_lines(&client, &line_tx, self.lines.active());
                            self.event(SessionEvent::SyncFinished);
                        }
                    }
                }
                update = updates.next() => match update {
                    Some(Ok(SubscriptionItem::Data(update))) => {
                        if let Err(err) = self.order_update(update).await {
                            tracing::error!(error = %err, "cannot record an order update");
                        }
                    }
                    Some(Ok(SubscriptionItem::Notice(notice))) => {
                        tracing::info!(order_id = ?notice.request_id, code = notice.code, message = %notice.message, "order notice");
                        if let Some(order_id) = notice.request_id {
                            self.order_error(order_id, notice.code, &notice.message).await;
                        }
                    }
                    Some(Err(err)) => return Exit::Lost(format!("order updates: {err}")),
                    None => return Exit::Lost("order update stream ended".into()),
                },
                Some(event) = line_rx.recv() => self.line_event(&client, &line_tx, event).await,
                position = next_position(&mut self.positions_stream) => match position {
                    Some(Ok(SubscriptionItem::Data(PositionUpdate::Position(p)))) => {
                        if let Err(err) = self.position_changed(&p).await {
                            tracing::error!(error = %err, "cannot record a position change");
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(err)) => return Exit::Lost(format!("positions: {err}")),
                    None => self.positions_stream = None,
                },
                // No router any more (the sender was dropped): no orders, the session goes on.
                Some(approved) = self.orders.recv() => self.order_command(&client, approved).await,
                command = self.commands.recv() => match command {
                    None | Some(SessionCommand::Stop) => return Exit::Stop,
                    Some(SessionCommand::Watch { spec, reply }) => {
                        let result = self.watch(Some((&client, &line_tx)), *spec).await;
                        let _ = reply.send(result);
                    }
                    Some(SessionCommand::Unwatch { instrument_id }) => self.unwatch(Some((&client, &line_tx)), instrument_id),
                    Some(SessionCommand::History { request, reply }) => {
                        let answer = self.resolve(&client, &request.spec).await;
                        let (client, pool, pacer) = (client.clone(), self.pool.clone(), self.pacer.clone());
                        tokio::spawn(async move {
                            let result = match answer {
                                Ok(id) => history::fetch(&client, &pacer, id, &request).await,
                                Err(err) => Err(err),
                            };
                            let result = match result {
                                Ok(bars) => market_data_store::upsert_bars(&pool, &bars).await.map(|_| bars).map_err(|e| e.to_string()),
                                Err(err) => Err(err),
                            };
                            let _ = reply.send(result);
                        });
                    }
                    Some(SessionCommand::WhatIf { intent, reply }) => {
                        // Answered off the loop: TWS may take a moment, and ticks keep flowing.
                        let client = client.clone();
                        tokio::spawn(async move {
                            let _ = reply.send(order_flow::what_if(&client, &intent).await);
                        });
                    }
                    Some(SessionCommand::Search { pattern, reply }) => {
                        // Off the loop, like what-if: ticks keep flowing while TWS looks.
                        let client = client.clone();
                        tokio::spawn(async move {
                            let _ = reply.send(search(&client, &pattern).await);
                        });
                    }
                    Some(SessionCommand::LineQueue { reply }) => { let _ = reply.send(self.lines.queue()); }
                    Some(SessionCommand::LineStatus { reply }) => self.line_status(reply),
                },
                _ = check.tick() => {
                    if !client.is_connected() {
                        return Exit::Lost("socket closed".into());
                    }
                }
            }
        }
    }

    /// Synchronises and stores the report; resends orders TWS never received (if recent).
    async fn resync(&mut self, client: &Client, reason: &str) -> Result<(), String> {
        let synced = sync::synchronise(
            client,
            &self.pool,
            &self.hub,
            self.recorder.as_ref(),
            &mut self.ids,
            &mut self.cache,
        )
        .await
        .map_err(|e| format!("synchronisation: {e}"))?;
        self.holdings = synced.holdings;
        self.positions_stream = Some(synced.positions_stream);
        let mut report = synced.report;
        // What the trader took back comes first: cancels and the kill switch, then resends.
        self.carry_out_cancels(client, &mut report).await;
        if let Some(global_cancel) = self.pending_kill.take() {
            let never_received = std::mem::take(&mut report.orders_never_received);
            self.kill(client, global_cancel, never_received).await;
        }
        let groups = resend::groups(
            &self.pool,
            &report.orders_never_received,
            self.config.resend_window,
        )
        .await;
        for group in groups {
            self.resend_group(client, group, &mut report).await;
        }
        let json = serde_json::to_value(&report).unwrap_or_default();
        if let Err(err) =
            sync_reports::insert(&self.pool, &self.config.profile.name, reason, &json).await
        {
            tracing::error!(error = %err, "cannot store the synchronisation report");
        }
        tracing::info!(
            reason,
            positions = report.positions,
            open_orders = report.open_orders,
            executions_added = report.executions_added,
            unknown = report.orders_unknown.len(),
            "synchronised with TWS"
        );
        self.reports.send_replace(Some(report));
        Ok(())
    }

    async fn order_update(
        &mut self,
        update: IbOrderUpdate,
    ) -> Result<(), crate::store::StoreError> {
        match update {
            IbOrderUpdate::OrderStatus(status) => {
                order_flow::apply_status(&self.pool, &self.hub, &mut self.ids, &status).await
            }
            IbOrderUpdate::OpenOrder(data) => {
                let order_ref = &data.order.order_ref;
                if order_ref.is_empty() {
                    return Ok(());
                }
                self.ids
                    .link(data.order.client_id, data.order_id, order_ref);
                // What TWS acknowledged becomes the stored order (a modification is done).
                if let Some(stored) = orders::get(&self.pool, order_ref).await?
                    && let (Some(quantity), limit, stop) =
                        order_flow::acknowledged_terms(stored.order_type, &data.order)
                {
                    orders::acknowledge(&self.pool, &stored, quantity, limit, stop).await?;
                }
                Ok(())
            }
            IbOrderUpdate::ExecutionData(data) => order_flow::record_execution(
                &self.pool,
                &self.hub,
                self.recorder.as_ref(),
                &mut self.cache,
                &data,
            )
            .await
            .map(drop),
            IbOrderUpdate::CommissionReport(report) => {
                order_flow::record_commission(&self.pool, self.recorder.as_ref(), &report).await
            }
            IbOrderUpdate::OrderBound(_) => Ok(()),
        }
    }

    async fn position_changed(
        &mut self,
        reported: &ibapi::accounts::Position,
    ) -> Result<(), crate::store::StoreError> {
        let account = self.holdings.apply(&self.pool, &self.hub, reported).await?;
        self.holdings.record(&self.pool, &account, "update").await
    }

    async fn order_command(&mut self, client: &Client, approved: Approved) {
        match approved.into_command() {
            Command::Place {
                order_ref,
                intent,
                transmit,
                ..
            } => self.place(client, &order_ref, &intent, transmit).await,
            Command::Modify {
                order_ref,
                intent,
                reply,
            } => {
                let answer = match self.actionable_id(&order_ref) {
                    Ok(order_id) => order_flow::send(
                        client,
                        &self.pool,
                        &mut self.ids,
                        &order_ref,
                        &intent,
                        order_id,
                        true,
                    )
                    .await
                    .map_err(|err| err.to_string()),
                    Err(why) => Err(why),
                };
                if let Err(why) = &answer {
                    tracing::error!(%order_ref, %why, "modification not sent");
                }
                let _ = reply.send(answer);
            }
            Command::Cancel { order_ref } => {
                self.pending_cancels.remove(&order_ref);
                self.cancel(client, order_ref).await;
            }
            Command::KillSwitch { global_cancel } => {
                self.kill(client, global_cancel, Vec::new()).await;
            }
        }
    }

    /// Sends one approved order with a fresh TWS id.
    async fn place(
        &mut self,
        client: &Client,
        order_ref: &str,
        intent: &crate::domain::OrderIntent,
        transmit: bool,
    ) {
        let order_id = client.next_order_id();
        let sent = order_flow::send(
            client,
            &self.pool,
            &mut self.ids,
            order_ref,
            intent,
            order_id,
            transmit,
        )
        .await;
        match sent {
            Ok(()) => {}
            // The connection went away under us: the order stays PendingSubmit and the
            // synchronisation after the reconnect finds out whether TWS got it.
            Err(err) if !client.is_connected() => {
                tracing::warn!(%order_ref, error = %err, "order send interrupted by a disconnect");
            }
            Err(err) => {
                tracing::error!(%order_ref, error = %err, "order not sent");
                let _ = orders::finish(
                    &self.pool,
                    order_ref,
                    "Inactive",
                    &format!("not sent: {err}"),
                )
                .await;
            }
        }
    }

    /// An order command while disconnected: nothing is dropped.
    fn offline_order(&mut self, approved: Approved) {
        match approved.into_command() {
            // Already in PostgreSQL as PendingSubmit: after the reconnect it is found never
            // received and passes the gate again before it is sent.
            Command::Place { order_ref, .. } => {
                tracing::info!(%order_ref, "order while disconnected; it is decided again after the reconnect");
            }
            Command::Modify {
                order_ref, reply, ..
            } => {
                tracing::warn!(%order_ref, "modification refused: not connected to TWS");
                let _ = reply.send(Err(
                    "not connected to TWS; the order is unchanged (modify it again once connected)"
                        .into(),
                ));
            }
            Command::Cancel { order_ref } => {
                tracing::info!(%order_ref, "cancel while disconnected; carried out after the reconnect");
                self.pending_cancels.insert(order_ref);
            }
            Command::KillSwitch { global_cancel } => {
                tracing::warn!(
                    "kill switch while disconnected; every working order is cancelled after the reconnect"
                );
                self.pending_kill = Some(global_cancel || self.pending_kill.unwrap_or(false));
            }
        }
    }

    /// The TWS id this session may act on for one of our orders, or why there is none.
    fn actionable_id(&self, order_ref: &str) -> Result<i32, String> {
        if let Some(order_id) = self.ids.order_id(self.client_id, order_ref) {
            return Ok(order_id);
        }
        Err(match self.ids.owner(order_ref) {
            Some(owner) => format!(
                "{order_ref} was placed under client id {owner}; this session (client id {}) \
                 follows it read-only: cancel or modify it in TWS",
                self.client_id
            ),
            None => format!("{order_ref} is not a working order of this session"),
        })
    }

    async fn cancel_refused(&self, order_ref: &str, why: &str) {
        tracing::error!(%order_ref, %why, "cancel not sent");
        self.audit_order("system", "order.cancel_refused", why, order_ref)
            .await;
    }

    async fn watch(
        &mut self,
        live: Option<(&Arc<Client>, &mpsc::Sender<LineEvent>)>,
        spec: InstrumentSpec,
    ) -> Result<i64, String> {
        let id = match live {
            // Connected: ask TWS which contract this is, so the instrument is keyed by its
            // con_id and positions, fills and quotes of it meet on one row.
            Some((client, _)) => self.resolve(client, &spec).await?,
            None => {
                instruments::upsert(&self.pool, &spec)
                    .await
                    .map_err(|e| e.to_string())?
                    .id
            }
        };
        let stored = instruments::get(&self.pool, id)
            .await
            .map_err(|e| e.to_string())?;
        self.specs
            .insert(id, stored.map(|i| i.spec).unwrap_or(spec));
        let action = self.lines.subscribe(id);
        if let (LineAction::Start(ids), Some((client, tx))) = (action, live) {
            self.start_lines(client, tx, ids);
        }
        Ok(id)
    }

    /// The instrument id of `spec` after TWS told us its contract id.
    async fn resolve(&mut self, client: &Client, spec: &InstrumentSpec) -> Result<i64, String> {
        if spec.con_id.is_none() {
            let contract = super::convert::contract_for(spec);
            let details =
                tokio::time::timeout(sync::STEP_TIMEOUT, client.contract_details(&contract))
                    .await
                    .map_err(|_| format!("{}: no contract details from TWS", spec.symbol))?
                    .map_err(|e| format!("{}: {e}", spec.symbol))?;
            let first = details
                .first()
                .ok_or_else(|| format!("{}: unknown contract", spec.symbol))?;
            if let Some(con_id) = Some(i64::from(first.contract.contract_id)).filter(|id| *id != 0)
            {
                if let Some(known) = instruments::by_con_id(&self.pool, con_id)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    return Ok(known.id);
                }
                let resolved = InstrumentSpec {
                    con_id: Some(con_id),
                    ..spec.clone()
                };
                return instruments::upsert(&self.pool, &resolved)
                    .await
                    .map(|i| i.id)
                    .map_err(|e| e.to_string());
            }
        }
        instruments::upsert(&self.pool, spec)
            .await
            .map(|i| i.id)
            .map_err(|e| e.to_string())
    }

    fn unwatch(
        &mut self,
        live: Option<(&Arc<Client>, &mpsc::Sender<LineEvent>)>,
        instrument_id: i64,
    ) {
        if let LineAction::Stop { stop, start } = self.lines.unsubscribe(instrument_id) {
            if let Some(task) = self.line_tasks.remove(&stop) {
                task.abort();
            }
            // The freed line goes to the first in the queue; offline, it starts with the next
            // connect (it is in `active` by then).
            if let Some((client, tx)) = live {
                self.start_lines(client, tx, start);
            }
        }
    }

    /// Answers [`SessionCommand::LineStatus`]: the lines now, the pacer from a task (a download
    /// may hold its lock for a moment; the loop must not wait for it).
    fn line_status(&self, reply: tokio::sync::oneshot::Sender<super::LineStatus>) {
        let mut status = super::LineStatus {
            active: self.lines.active().len(),
            limit: self.lines.limit(),
            queue: self.lines.queue(),
            historical: Default::default(),
        };
        let pacer = self.pacer.clone();
        tokio::spawn(async move {
            status.historical = pacer.lock().await.status(std::time::Instant::now());
            let _ = reply.send(status);
        });
    }

    fn start_lines(&mut self, client: &Arc<Client>, tx: &mpsc::Sender<LineEvent>, ids: Vec<i64>) {
        for id in ids {
            if let Some(spec) = self.specs.get(&id) {
                let task = market_data::spawn_line(client.clone(), id, spec.clone(), tx.clone());
                if let Some(old) = self.line_tasks.insert(id, task) {
                    old.abort();
                }
            }
        }
    }

    fn stop_lines(&mut self) {
        for (_, task) in self.line_tasks.drain() {
            task.abort();
        }
    }

    async fn line_event(
        &mut self,
        client: &Arc<Client>,
        tx: &mpsc::Sender<LineEvent>,
        event: LineEvent,
    ) {
        match event {
            LineEvent::Ticks { ticks, delayed } => {
                for tick in &ticks {
                    let quote = self
                        .quotes
                        .entry(tick.instrument_id)
                        .or_insert_with(|| Quote {
                            instrument_id: tick.instrument_id,
                            ..Quote::default()
                        });
                    if quote.apply(tick) {
                        quote.delayed = delayed;
                        self.hub.publish_quote(quote.clone());
                    }
                    self.hub.publish_tick(tick.clone());
                }
                if let Some(recorder) = &self.recorder {
                    for tick in ticks {
                        if let Err(err) = recorder.record_tick(tick) {
                            tracing::error!(error = %err, "the recorder refused a tick");
                            break;
                        }
                    }
                }
            }
            LineEvent::Refused {
                instrument_id,
                code,
                message,
            } => {
                tracing::warn!(instrument_id, code, %message, "market data line refused");
                self.line_tasks.remove(&instrument_id);
                if code == 101 {
                    self.lines.refused(instrument_id);
                }
            }
            LineEvent::Ended { instrument_id } => {
                self.line_tasks.remove(&instrument_id);
                // A stream that ends while the socket is fine is restarted once; a lost socket
                // is noticed by the connection check and everything restarts after reconnect.
                if client.is_connected() && self.lines.active().contains(&instrument_id) {
                    self.start_lines(client, tx, vec![instrument_id]);
                }
            }
        }
    }
}

/// TWS's matching symbols for `pattern`, as specs (bounded like a synchronisation step).
async fn search(client: &Client, pattern: &str) -> Result<Vec<InstrumentSpec>, String> {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return Ok(Vec::new());
    }
    let found = tokio::time::timeout(sync::STEP_TIMEOUT, client.matching_symbols(pattern))
        .await
        .map_err(|_| format!("{pattern}: no symbol search answer from TWS"))?
        .map_err(|e| format!("{pattern}: {e}"))?;
    Ok(super::convert::specs_from_descriptions(
        found.iter().map(|d| &d.contract),
    ))
}

/// The next item of the positions subscription, or never if there is none.
async fn next_position(
    stream: &mut Option<PositionStream>,
) -> Option<Result<SubscriptionItem<PositionUpdate>, ibapi::Error>> {
    match stream {
        Some(stream) => stream.next().await,
        None => std::future::pending().await,
    }
}

//! The order ticket: account, instrument, side, quantity, type, prices, time in force and the
//! live quote; a preview (the gate's verdict, our margin, TWS's what-if) whenever the form is
//! valid and changes; placing after a confirmation.

pub mod form;
pub mod preview;
mod view;
#[cfg(test)]
mod widget_tests;

use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::Duration;

use adw::prelude::*;
use gtk::glib;
use tickwork_core::domain::{
    Instrument, InstrumentSpec, OrderIntent, OrderSide, Quote, SecType, TwsWhatIf,
};

use self::form::{Field, Form, ORDER_TYPES, TIMES_IN_FORCE};
use self::view::Widgets;
use super::{Panel, PanelContext, PanelEvent, PanelProvider, WindowRequest};
use crate::gui::boundary::{
    MarketCommand, MarketEvent, Notification, OrderCommand, OrderEvent, OurMargin, SessionEvent,
    TicketDefaults,
};

/// How long the form must stay unchanged before it is previewed.
const DEBOUNCE: Duration = Duration::from_millis(300);
/// How often, and how long after, an unknown margin is asked for again.
const PREVIEW_RETRIES: u32 = 5;
const PREVIEW_RETRY_AFTER: Duration = Duration::from_secs(1);

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "ticket".into(),
        title: "Order ticket".into(),
        icon: "mail-send-symbolic".into(),
        description: "Enter an order, preview its risk and margin, and place it".into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(Ticket::new(ctx))),
    }
}

#[derive(Default)]
struct State {
    instrument: Option<InstrumentSpec>,
    /// The instrument's id once known (selected elsewhere, or watched for its quote).
    instrument_id: Option<i64>,
    /// The intent the shown preview belongs to.
    previewed: Option<OrderIntent>,
    ours: Option<OurMargin>,
    tws: Option<TwsWhatIf>,
    debounce: Option<glib::SourceId>,
    /// Set while the ticket writes its own fields (no preview for that).
    filling: bool,
    /// Previews of the same intent asked again because our margin was unknown (its quotes
    /// had not arrived yet).
    retries: u32,
}

struct Inner {
    ctx: PanelContext,
    w: Widgets,
    state: RefCell<State>,
}

pub struct Ticket {
    inner: Rc<Inner>,
}

impl Ticket {
    pub fn new(ctx: PanelContext) -> Self {
        let w = Widgets::build(&preview::rows(None, None));
        let inner = Rc::new(Inner {
            ctx,
            w,
            state: RefCell::default(),
        });
        connect(&inner);
        let saved = inner
            .ctx
            .saved
            .as_ref()
            .and_then(|s| s.get("symbol"))
            .and_then(|s| s.as_str())
            .map(str::to_owned);
        if let Some(symbol) = saved {
            inner.symbol_entered(&symbol);
        }
        let defaults = inner.ctx.shared.borrow().ticket_defaults.clone();
        inner.apply_defaults(&defaults);
        inner.connection_changed();
        inner.changed();
        Self { inner }
    }
}

fn connect(inner: &Rc<Inner>) {
    let weak = Rc::downgrade(inner);
    let on = move |weak: &Weak<Inner>| {
        let weak = weak.clone();
        move || {
            if let Some(inner) = weak.upgrade() {
                inner.changed();
            }
        }
    };
    let w = &inner.w;
    for entry in [&w.quantity, &w.limit, &w.stop] {
        let changed = on(&weak);
        entry.connect_changed(move |_| changed());
    }
    let changed = on(&weak);
    w.buy.connect_toggled(move |_| changed());
    let changed = on(&weak);
    w.order_type.connect_selected_notify(move |_| changed());
    let changed = on(&weak);
    w.tif.connect_selected_notify(move |_| changed());
    let symbol_weak = weak.clone();
    w.symbol.connect_activate(move |entry| {
        if let Some(inner) = symbol_weak.upgrade() {
            inner.symbol_entered(&entry.text());
        }
    });
    // Enter in a field places the order (after the confirmation), as the default button would.
    for entry in [&w.quantity, &w.limit, &w.stop] {
        let weak = weak.clone();
        entry.connect_activate(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.confirm();
            }
        });
    }
    let place_weak = weak;
    w.place.connect_clicked(move |_| {
        if let Some(inner) = place_weak.upgrade() {
            inner.confirm();
        }
    });
}

impl Inner {
    /// Starts the form from the trader's defaults (Preferences), unless an order is being
    /// typed (a quantity is there): defaults never overwrite what was typed.
    fn apply_defaults(&self, defaults: &TicketDefaults) {
        let w = &self.w;
        if !w.quantity.text().trim().is_empty() {
            return;
        }
        if let Some(quantity) = defaults.quantity {
            w.quantity.set_text(&quantity.normalize().to_string());
        }
        if let Some(i) = ORDER_TYPES.iter().position(|t| *t == defaults.order_type) {
            w.order_type.set_selected(i as u32);
        }
        if let Some(i) = TIMES_IN_FORCE
            .iter()
            .position(|t| *t == defaults.time_in_force)
        {
            w.tif.set_selected(i as u32);
        }
    }

    fn form(&self) -> Form {
        let w = &self.w;
        let state = self.state.borrow();
        Form {
            account: self.ctx.shared.borrow().account.clone(),
            instrument: state.instrument.clone(),
            side: if w.sell.is_active() {
                OrderSide::Sell
            } else {
                OrderSide::Buy
            },
            quantity: w.quantity.text().to_string(),
            order_type: ORDER_TYPES
                .get(w.order_type.selected() as usize)
                .copied()
                .unwrap_or(ORDER_TYPES[0]),
            limit: w.limit.text().to_string(),
            stop: w.stop.text().to_string(),
            tif: TIMES_IN_FORCE
                .get(w.tif.selected() as usize)
                .copied()
                .unwrap_or(TIMES_IN_FORCE[0]),
        }
    }

    fn connected(&self) -> bool {
        self.ctx.shared.borrow().profile.is_some()
    }

    fn connection_changed(&self) {
        let shown = if self.connected() { "form" } else { "empty" };
        self.w.root.set_visible_child_name(shown);
    }

    /// Validates the form, shows the reasons at the fields, and previews it soon if it is a
    /// new valid order.
    fn changed(self: &Rc<Self>) {
        if self.state.borrow().filling {
            return;
        }
        let form = self.form();
        let w = &self.w;
        w.account.set_text(form.account.as_deref().unwrap_or("—"));
        w.limit.set_visible(form.needs_limit());
        w.limit_label.set_visible(form.needs_limit());
        w.stop.set_visible(form.needs_stop());
        w.stop_label.set_visible(form.needs_stop());
        let problems = form.problems();
        let show = |label: &gtk::Label, field: Field, typed: Option<&gtk::Entry>| {
            // An empty field the trader has not reached yet is not shouted at; the Place
            // button's tooltip says what is missing.
            let reason = problems
                .iter()
                .find(|p| p.field == field)
                .filter(|_| typed.is_none_or(|e| !e.text().trim().is_empty()));
            label.set_text(reason.map(|p| p.reason.as_str()).unwrap_or(""));
            label.set_visible(reason.is_some());
        };
        show(&w.account_error, Field::Account, None);
        show(&w.quantity_error, Field::Quantity, Some(&w.quantity));
        show(&w.limit_error, Field::Limit, Some(&w.limit));
        show(&w.stop_error, Field::Stop, Some(&w.stop));
        let intent = form.intent();
        let why_not = match (&intent, self.connected()) {
            (_, false) => Some("Connect to TWS or open the demo first".to_owned()),
            (Err(problems), true) => problems.first().map(|p| p.reason.clone()),
            (Ok(_), true) => None,
        };
        w.place.set_sensitive(why_not.is_none());
        w.place.set_tooltip_text(Some(
            why_not
                .as_deref()
                .unwrap_or("Review and confirm the order, then send it to TWS"),
        ));
        let mut state = self.state.borrow_mut();
        if let Some(source) = state.debounce.take() {
            source.remove();
        }
        match intent {
            Ok(intent) if self.connected() => {
                if state.previewed.as_ref() != Some(&intent) {
                    let weak = Rc::downgrade(self);
                    state.debounce = Some(glib::timeout_add_local_once(DEBOUNCE, move || {
                        if let Some(inner) = weak.upgrade() {
                            inner.state.borrow_mut().debounce = None;
                            inner.send_preview();
                        }
                    }));
                }
            }
            _ => {
                state.previewed = None;
                state.ours = None;
                state.tws = None;
                drop(state);
                self.clear_preview();
            }
        }
    }

    fn send_preview(&self) {
        let Ok(intent) = self.form().intent() else {
            return;
        };
        {
            let mut state = self.state.borrow_mut();
            if state.previewed.as_ref() != Some(&intent) {
                state.retries = 0;
            }
            state.previewed = Some(intent.clone());
            state.ours = None;
            state.tws = None;
        }
        self.w.ours_note.set_text("Computing our margin…");
        self.w.tws_note.set_text("Asking TWS…");
        self.ctx.commands.send(OrderCommand::Preview {
            intent: Box::new(intent),
        });
    }

    /// Our margin was unknown, usually because a quote it needs (the order's instrument, or a
    /// holding's) had not arrived when the preview was asked: ask again a little later, a few
    /// times, as long as the ticket still shows the same order.
    fn retry_preview(self: &Rc<Self>, intent: &OrderIntent) {
        {
            let mut state = self.state.borrow_mut();
            if state.retries >= PREVIEW_RETRIES {
                return;
            }
            state.retries += 1;
        }
        let weak = Rc::downgrade(self);
        let intent = intent.clone();
        glib::timeout_add_local_once(PREVIEW_RETRY_AFTER, move || {
            if let Some(inner) = weak.upgrade()
                && inner.is_current(&intent)
            {
                inner.send_preview();
            }
        });
    }

    fn symbol_entered(self: &Rc<Self>, text: &str) {
        let Some(symbol) = form::stock_symbol(text) else {
            self.w.instrument.set_text("Type a stock symbol, e.g. AAPL");
            return;
        };
        let spec = InstrumentSpec::stock(&symbol);
        let known = self
            .ctx
            .shared
            .borrow()
            .instruments
            .values()
            .find(|i| i.spec.symbol == symbol && i.spec.sec_type == SecType::Stock)
            .cloned();
        match known {
            Some(instrument) => self.set_instrument(instrument.spec, Some(instrument.id)),
            None => {
                self.set_instrument(spec.clone(), None);
                // Its quote is needed to trade it: ask for it to be streamed.
                if self.connected() {
                    self.ctx.commands.send(MarketCommand::Watch { spec });
                }
            }
        }
        self.ctx.request(WindowRequest::LayoutChanged);
    }

    /// A typed instrument without an id yet: stream it once connected, for its quote.
    fn watch_if_unknown(&self) {
        let spec = {
            let state = self.state.borrow();
            match (&state.instrument, state.instrument_id) {
                (Some(spec), None) => spec.clone(),
                _ => return,
            }
        };
        if self.connected() {
            self.ctx.commands.send(MarketCommand::Watch { spec });
        }
    }

    fn set_instrument(self: &Rc<Self>, spec: InstrumentSpec, id: Option<i64>) {
        self.state.borrow_mut().filling = true;
        self.w.symbol.set_text(&spec.symbol);
        self.state.borrow_mut().filling = false;
        let description = spec
            .description
            .clone()
            .unwrap_or_else(|| format!("{} {} {}", spec.sec_type, spec.exchange, spec.currency));
        self.w.instrument.set_text(&description);
        {
            let mut state = self.state.borrow_mut();
            state.instrument = Some(spec);
            state.instrument_id = id;
        }
        let quote = id.and_then(|id| self.ctx.shared.borrow().quotes.get(&id).cloned());
        self.draw_quote(quote.as_ref());
        self.changed();
    }

    fn draw_quote(&self, quote: Option<&Quote>) {
        let text = |price: Option<rust_decimal::Decimal>| {
            price
                .map(form::price_text)
                .unwrap_or_else(|| "—".to_owned())
        };
        self.w.bid.set_text(&text(quote.and_then(|q| q.bid)));
        self.w.ask.set_text(&text(quote.and_then(|q| q.ask)));
        self.w.last.set_text(&text(quote.and_then(|q| q.last)));
        let note = match (quote, &self.state.borrow().instrument) {
            (Some(q), _) if q.delayed => Some("Delayed market data".to_owned()),
            (None, Some(spec)) => Some(format!("No quote for {} yet", spec.symbol)),
            _ => None,
        };
        self.w.quote_note.set_visible(note.is_some());
        self.w.quote_note.set_text(note.as_deref().unwrap_or(""));
    }

    fn show_refusal(&self, refusal: Option<&str>) {
        self.w.refusal.set_text(refusal.unwrap_or(""));
        self.w.refusal.set_visible(refusal.is_some());
    }

    fn draw_margin(&self, ours: Option<&OurMargin>, tws: Option<&TwsWhatIf>) {
        for (figure, row) in self.w.figures.iter().zip(preview::rows(ours, tws)) {
            figure.ours.set_text(&row.ours);
            figure.tws.set_text(&row.tws);
        }
    }

    /// No preview: nothing about margin is shown.
    fn clear_preview(&self) {
        self.show_refusal(None);
        self.draw_margin(None, None);
        self.w.ours_note.set_text("");
        self.w.tws_note.set_text("");
        self.w.explanation_expander.set_visible(false);
    }

    fn is_current(&self, intent: &OrderIntent) -> bool {
        self.state.borrow().previewed.as_ref() == Some(intent)
    }

    fn order_event(self: &Rc<Self>, event: &OrderEvent) {
        match event {
            OrderEvent::Preview {
                intent,
                refusal,
                ours,
            } if self.is_current(intent) => {
                self.show_refusal(refusal.as_deref());
                let shown = ours.as_ref().ok().cloned();
                match ours {
                    Ok(ours) => {
                        self.w.ours_note.set_text(&preview::ours_note(ours));
                        let text = ours.explanation.as_ref().map(preview::explanation);
                        self.w.explanation.set_text(text.as_deref().unwrap_or(""));
                        self.w.explanation_expander.set_visible(text.is_some());
                    }
                    Err(why) => {
                        self.w
                            .ours_note
                            .set_text(&format!("Our margin is unknown: {why}"));
                        self.w.explanation_expander.set_visible(false);
                    }
                }
                let tws = {
                    let mut state = self.state.borrow_mut();
                    state.ours = shown.clone();
                    state.tws.clone()
                };
                self.draw_margin(shown.as_ref(), tws.as_ref());
                if ours.is_err() {
                    self.retry_preview(intent);
                }
            }
            OrderEvent::PreviewTws { intent, tws } if self.is_current(intent) => {
                let shown = tws.as_ref().ok().cloned();
                match tws {
                    Ok(_) => self.w.tws_note.set_text("TWS what-if answered"),
                    Err(why) => self
                        .w
                        .tws_note
                        .set_text(&format!("TWS did not answer: {why}")),
                }
                let ours = {
                    let mut state = self.state.borrow_mut();
                    state.tws = shown.clone();
                    state.ours.clone()
                };
                self.draw_margin(ours.as_ref(), shown.as_ref());
            }
            OrderEvent::Placed { order_ref, intent } => {
                tracing::info!(%order_ref, "order sent");
                self.show_refusal(None);
                self.ctx.request(WindowRequest::Toast(format!(
                    "Order sent: {}",
                    form::summary(intent)
                )));
            }
            OrderEvent::PlaceRefused { reason, .. } => {
                self.show_refusal(Some(reason));
                self.ctx
                    .request(WindowRequest::Toast(format!("Order refused: {reason}")));
            }
            _ => {}
        }
    }

    /// Asks the trader to confirm, then places the order.
    fn confirm(self: &Rc<Self>) {
        if !self.w.place.is_sensitive() {
            return;
        }
        let Ok(intent) = self.form().intent() else {
            return;
        };
        let window = self.w.root.root().and_downcast::<gtk::Window>();
        let refusal = self.w.refusal.text();
        let body = if refusal.is_empty() {
            "The order passes the risk gate now and is sent to TWS.".to_owned()
        } else {
            format!("The risk gate would refuse it now: {refusal}")
        };
        let dialog = adw::MessageDialog::new(
            window.as_ref(),
            Some(&format!("{}?", form::summary(&intent))),
            Some(&body),
        );
        dialog.set_widget_name("confirm-order");
        dialog.add_responses(&[("cancel", "_Cancel"), ("place", "_Place order")]);
        dialog.set_response_appearance("place", adw::ResponseAppearance::Suggested);
        dialog.set_default_response(Some("place"));
        dialog.set_close_response("cancel");
        let weak = Rc::downgrade(self);
        dialog.connect_response(None, move |_, response| {
            if response != "place" {
                return;
            }
            if let Some(inner) = weak.upgrade() {
                inner.ctx.commands.send(OrderCommand::Place {
                    intent: Box::new(intent.clone()),
                });
            }
        });
        dialog.present();
    }

    fn instrument_selected(self: &Rc<Self>, instrument: &Instrument) {
        self.set_instrument(instrument.spec.clone(), Some(instrument.id));
    }

    fn watching(self: &Rc<Self>, instrument: &Instrument) {
        let matches = {
            let state = self.state.borrow();
            state.instrument_id.is_none()
                && state.instrument.as_ref().is_some_and(|s| {
                    s.symbol == instrument.spec.symbol && s.sec_type == instrument.spec.sec_type
                })
        };
        if matches {
            self.state.borrow_mut().instrument_id = Some(instrument.id);
            let quote = self.ctx.shared.borrow().quotes.get(&instrument.id).cloned();
            self.draw_quote(quote.as_ref());
        }
    }
}

impl Panel for Ticket {
    fn widget(&self) -> gtk::Widget {
        self.inner.w.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        let inner = &self.inner;
        match event {
            PanelEvent::Backend(Notification::Orders(event)) => inner.order_event(event),
            PanelEvent::Backend(Notification::Market(MarketEvent::Watching(instrument))) => {
                inner.watching(instrument)
            }
            PanelEvent::Backend(Notification::Session(
                SessionEvent::Connected { .. }
                | SessionEvent::Disconnected
                | SessionEvent::Trading(_)
                | SessionEvent::Limits(_),
            )) => {
                inner.connection_changed();
                if matches!(
                    event,
                    PanelEvent::Backend(Notification::Session(SessionEvent::Connected { .. }))
                ) {
                    inner.watch_if_unknown();
                }
                // Arming or new limits change the gate's verdict: preview again.
                inner.state.borrow_mut().previewed = None;
                inner.changed();
            }
            PanelEvent::Backend(Notification::Session(SessionEvent::TicketDefaults(defaults))) => {
                inner.apply_defaults(defaults);
                inner.changed();
            }
            PanelEvent::InstrumentSelected(instrument) => inner.instrument_selected(instrument),
            PanelEvent::AccountSelected(_) => inner.changed(),
            _ => {}
        }
    }

    fn quotes(&self, quotes: &[Quote]) {
        let Some(id) = self.inner.state.borrow().instrument_id else {
            return;
        };
        if let Some(quote) = quotes.iter().find(|q| q.instrument_id == id) {
            self.inner.draw_quote(Some(quote));
        }
    }

    fn saved_state(&self) -> Option<serde_json::Value> {
        let state = self.inner.state.borrow();
        let spec = state.instrument.as_ref()?;
        Some(serde_json::json!({ "symbol": spec.symbol }))
    }
}

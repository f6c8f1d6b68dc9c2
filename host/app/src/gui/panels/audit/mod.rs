//! The audit log viewer: every order intent, risk decision and sensitive action, newest first,
//! filtered by origin, account, action and period, paged with "Load more".
//!
//! New entries appear live: while the panel is shown it asks for entries newer than the newest
//! it has every 5 s and at once after order and trading notifications (scripts and plugins log
//! without any notification reaching the window, so notifications alone would miss them).

mod model;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use adw::prelude::*;
use gtk::{gio, glib};
use tickwork_core::store::audit::{AuditFacets, AuditFilter, AuditRecord};

use super::columns::{labelled, text_column, toolbar};
use super::{Panel, PanelContext, PanelEvent, PanelProvider};
use crate::gui::boundary::{Notification, RecordsCommand, RecordsEvent, SessionEvent};
use model::{Choices, PAGE};

pub fn provider() -> PanelProvider {
    PanelProvider {
        id: "audit".into(),
        title: "Audit log".into(),
        icon: "document-open-recent-symbolic".into(),
        description: "Every order intent, risk decision and sensitive action, filterable".into(),
        multiple: false,
        build: Rc::new(|ctx| Box::new(AuditPanel::new(ctx))),
    }
}

const POLL: Duration = Duration::from_secs(5);

pub struct AuditPanel {
    inner: Rc<Inner>,
}

struct Inner {
    ctx: PanelContext,
    root: gtk::Box,
    store: gio::ListStore,
    stack: gtk::Stack,
    origin: gtk::DropDown,
    account: gtk::DropDown,
    action: gtk::DropDown,
    range: gtk::DropDown,
    /// Origin, account, action choices.
    choices: RefCell<[Choices; 3]>,
    filter: RefCell<AuditFilter>,
    more: gtk::Button,
    count: gtk::Label,
    /// Dropdowns are being refilled: their selection changes are not the trader's.
    refilling: Cell<bool>,
}

fn record(item: &glib::Object) -> Option<std::cell::Ref<'_, AuditRecord>> {
    item.downcast_ref::<glib::BoxedAnyObject>()
        .map(|b| b.borrow::<AuditRecord>())
}

impl AuditPanel {
    pub fn new(ctx: PanelContext) -> Self {
        let facets = AuditFacets::default();
        let choices = [
            model::origins(&facets),
            model::accounts(&facets),
            model::actions(&facets),
        ];
        let dropdown = |name: &str, shown: &[String], tooltip: &str| {
            let strings: Vec<&str> = shown.iter().map(String::as_str).collect();
            let d = gtk::DropDown::from_strings(&strings);
            d.set_widget_name(name);
            d.set_tooltip_text(Some(tooltip));
            d
        };
        let origin = dropdown("audit-origin", &choices[0].shown, "Who acted");
        let account = dropdown("audit-account", &choices[1].shown, "Account in the details");
        let action = dropdown("audit-action", &choices[2].shown, "What was attempted");
        let range = dropdown(
            "audit-range",
            &model::RANGES.map(String::from),
            "Period of the entries",
        );
        range.set_selected(1);
        let bar = toolbar(&[
            labelled("_Origin", &origin).upcast(),
            labelled("A_ccount", &account).upcast(),
            labelled("Act_ion", &action).upcast(),
            labelled("_Period", &range).upcast(),
        ]);

        let store = gio::ListStore::new::<glib::BoxedAnyObject>();
        let view = gtk::ColumnView::new(Some(gtk::NoSelection::new(Some(store.clone()))));
        view.set_widget_name("audit-view");
        view.add_css_class("data-table");
        view.set_reorderable(false);
        view.append_column(&text_column("Time", false, |o| {
            record(o)
                .map(|r| (model::local_time(&r), Some(r.at.to_rfc3339())))
                .unwrap_or_default()
        }));
        view.append_column(&text_column("Origin", false, |o| {
            record(o)
                .map(|r| (r.actor.clone(), None))
                .unwrap_or_default()
        }));
        view.append_column(&text_column("Action", false, |o| {
            record(o)
                .map(|r| (r.action.clone(), None))
                .unwrap_or_default()
        }));
        view.append_column(&text_column("Decision", false, |o| {
            record(o)
                .map(|r| (r.decision.clone().unwrap_or_default(), None))
                .unwrap_or_default()
        }));
        let reason = text_column("Reason", false, |o| {
            record(o)
                .map(|r| {
                    let reason = r.reason.clone().unwrap_or_default();
                    (reason.clone(), (!reason.is_empty()).then_some(reason))
                })
                .unwrap_or_default()
        });
        reason.set_expand(true);
        view.append_column(&reason);
        let details = text_column("Details", false, |o| {
            record(o)
                .map(|r| {
                    let (summary, full) = model::details(&r);
                    (summary, Some(full))
                })
                .unwrap_or_default()
        });
        details.set_expand(true);
        view.append_column(&details);
        let scrolled = gtk::ScrolledWindow::builder()
            .child(&view)
            .vexpand(true)
            .hexpand(true)
            .build();
        let empty = adw::StatusPage::builder()
            .icon_name("document-open-recent-symbolic")
            .title("No audit entries")
            .description(
                "Order intents, risk decisions, arming and limit changes are recorded here. \
                 Change the filters or choose a longer period.",
            )
            .build();
        let stack = gtk::Stack::new();
        stack.add_named(&scrolled, Some("list"));
        stack.add_named(&empty, Some("empty"));
        stack.set_visible_child_name("empty");

        let more = gtk::Button::with_mnemonic("Load _more");
        more.set_widget_name("audit-more");
        more.set_tooltip_text(Some("Show older entries"));
        more.set_sensitive(false);
        let count = gtk::Label::new(None);
        count.add_css_class("dim-label");
        count.add_css_class("caption");
        count.set_hexpand(true);
        count.set_xalign(0.0);
        let footer = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        footer.set_margin_start(6);
        footer.set_margin_end(6);
        footer.set_margin_bottom(6);
        footer.append(&count);
        footer.append(&more);

        let root = gtk::Box::new(gtk::Orientation::Vertical, 0);
        root.append(&bar);
        root.append(&gtk::Separator::new(gtk::Orientation::Horizontal));
        root.append(&stack);
        root.append(&footer);

        let inner = Rc::new(Inner {
            ctx,
            root,
            store,
            stack,
            origin,
            account,
            action,
            range,
            choices: RefCell::new(choices),
            filter: RefCell::new(AuditFilter::default()),
            more,
            count,
            refilling: Cell::new(false),
        });
        inner.filter.replace(inner.selection());
        for d in [&inner.origin, &inner.account, &inner.action, &inner.range] {
            let weak = Rc::downgrade(&inner);
            d.connect_selected_notify(move |_| {
                if let Some(inner) = weak.upgrade()
                    && !inner.refilling.get()
                {
                    inner.reselect();
                }
            });
        }
        let weak = Rc::downgrade(&inner);
        inner.more.connect_clicked(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.load_more();
            }
        });
        // While shown: the filters' choices once, the newest entries now and every [`POLL`].
        let weak = Rc::downgrade(&inner);
        inner.root.connect_map(move |_| {
            if let Some(inner) = weak.upgrade() {
                inner.ctx.commands.send(RecordsCommand::AuditFacets);
            }
        });
        super::poll::while_shown(&inner.root, &inner, POLL, Inner::load_newer);
        Self { inner }
    }
}

impl Inner {
    /// The filter the dropdowns choose now (first page).
    fn selection(&self) -> AuditFilter {
        let choices = self.choices.borrow();
        AuditFilter {
            origin: choices[0].value(self.origin.selected()),
            account: choices[1].value(self.account.selected()),
            action: choices[2].value(self.action.selected()),
            since: model::since(self.range.selected(), chrono::Local::now()),
            limit: PAGE,
            ..AuditFilter::default()
        }
    }

    fn reselect(&self) {
        let filter = self.selection();
        self.filter.replace(filter.clone());
        self.store.remove_all();
        self.show_count(false);
        self.ctx.commands.send(RecordsCommand::Audit { filter });
    }

    fn ids(&self) -> (Option<i64>, Option<i64>) {
        let id = |i| {
            self.store
                .item(i)
                .as_ref()
                .and_then(|o| record(o).map(|r| r.id))
        };
        let n = self.store.n_items();
        (id(0), n.checked_sub(1).and_then(id))
    }

    fn load_newer(&self) {
        let mut filter = self.filter.borrow().clone();
        if let Some(newest) = self.ids().0 {
            filter.after_id = Some(newest);
        }
        self.ctx.commands.send(RecordsCommand::Audit { filter });
    }

    fn load_more(&self) {
        let Some(oldest) = self.ids().1 else { return };
        let filter = AuditFilter {
            before_id: Some(oldest),
            ..self.filter.borrow().clone()
        };
        self.ctx.commands.send(RecordsCommand::Audit { filter });
    }

    fn show_count(&self, more: bool) {
        let n = self.store.n_items();
        self.count.set_text(&match n {
            0 => String::new(),
            1 => "1 entry".into(),
            n => format!("{n} entries"),
        });
        self.more.set_sensitive(more);
        self.stack
            .set_visible_child_name(if n == 0 { "empty" } else { "list" });
    }

    fn entries(&self, filter: &AuditFilter, entries: &[AuditRecord]) {
        if !model::same_selection(filter, &self.filter.borrow()) {
            return;
        }
        let boxed = |r: &AuditRecord| glib::BoxedAnyObject::new(r.clone()).upcast::<glib::Object>();
        let (newest, oldest) = self.ids();
        let full = entries.len() as i64 >= filter.limit;
        if filter.after_id.is_some() {
            if full {
                // More new entries than a page: start again from the newest.
                return self.reselect();
            }
            let new: Vec<glib::Object> = entries
                .iter()
                .filter(|r| newest.is_none_or(|n| r.id > n))
                .map(boxed)
                .collect();
            if !new.is_empty() {
                self.store.splice(0, 0, &new);
                self.ctx.commands.send(RecordsCommand::AuditFacets);
            }
            self.show_count(self.more.is_sensitive());
        } else if filter.before_id.is_some() {
            let old: Vec<glib::Object> = entries
                .iter()
                .filter(|r| oldest.is_none_or(|o| r.id < o))
                .map(boxed)
                .collect();
            self.store.splice(self.store.n_items(), 0, &old);
            self.show_count(full);
        } else {
            let all: Vec<glib::Object> = entries.iter().map(boxed).collect();
            self.store.splice(0, self.store.n_items(), &all);
            self.show_count(full);
        }
    }

    fn facets(&self, facets: &AuditFacets) {
        let new = [
            model::origins(facets),
            model::accounts(facets),
            model::actions(facets),
        ];
        if *self.choices.borrow() == new {
            return;
        }
        self.refilling.set(true);
        let current = self.filter.borrow().clone();
        let wanted = [&current.origin, &current.account, &current.action];
        for ((dropdown, choices), value) in [&self.origin, &self.account, &self.action]
            .into_iter()
            .zip(&new)
            .zip(wanted)
        {
            let strings: Vec<&str> = choices.shown.iter().map(String::as_str).collect();
            dropdown.set_model(Some(&gtk::StringList::new(&strings)));
            dropdown.set_selected(choices.position(value));
        }
        self.choices.replace(new);
        self.refilling.set(false);
    }
}

impl Panel for AuditPanel {
    fn widget(&self) -> gtk::Widget {
        self.inner.root.clone().upcast()
    }

    fn event(&self, event: &PanelEvent) {
        let PanelEvent::Backend(notification) = event else {
            return;
        };
        match notification {
            Notification::Records(RecordsEvent::Audit { filter, entries }) => {
                self.inner.entries(filter, entries)
            }
            Notification::Records(RecordsEvent::AuditFacets(facets)) => self.inner.facets(facets),
            Notification::Orders(_) | Notification::Session(SessionEvent::Trading(_))
                if self.inner.root.is_mapped() =>
            {
                self.inner.load_newer()
            }
            _ => {}
        }
    }
}

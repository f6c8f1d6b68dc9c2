//! The workspace: panels in tab groups and splits, realised from a [`Layout`] and read back
//! from the widgets when saved, so what is stored is what the trader arranged.
//!
//! Tabs can be dragged between groups (libadwaita does that), moved with the tab's menu (split
//! right, split down, move to the next group) and closed; a closed panel is reopened from the
//! sidebar. A group emptied by a drag collapses.

pub mod layout;
pub mod ops;

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use adw::prelude::*;
use gtk::{gio, glib};

pub use layout::{Layout, Orientation, PanelRef};

use super::panels::placeholder::Placeholder;
use super::panels::{Panel, PanelContext, PanelEvent, PanelProvider, PanelRegistry};
use tickwork_core::domain::Quote;

/// Makes the context of a new panel from its saved state.
pub type MakeContext = Rc<dyn Fn(Option<serde_json::Value>) -> PanelContext>;

struct OpenPanel {
    provider: String,
    panel: Box<dyn Panel>,
    widget: gtk::Widget,
}

struct Split {
    paned: gtk::Paned,
    ratio: Cell<f64>,
}

pub struct Workspace {
    /// Holds the layout's root widget.
    container: gtk::Box,
    /// Grows once at start-up, when plugin panels are loaded.
    registry: RefCell<PanelRegistry>,
    make_context: MakeContext,
    panels: RefCell<Vec<OpenPanel>>,
    views: RefCell<Vec<adw::TabView>>,
    splits: RefCell<Vec<Split>>,
    /// Where panels opened from the sidebar go: the group used last.
    focused: RefCell<Option<adw::TabView>>,
    /// The page the tab menu was opened on.
    menu_page: RefCell<Option<adw::TabPage>>,
    /// Set while widgets are rebuilt: detaching pages then closes nothing.
    rebuilding: Cell<bool>,
    rebuild_scheduled: Cell<bool>,
    /// Called when the layout changed (the window saves it a moment later).
    on_change: RefCell<Option<Rc<dyn Fn()>>>,
    menu: gio::Menu,
}

impl Workspace {
    pub fn new(registry: PanelRegistry, make_context: MakeContext) -> Rc<Self> {
        let container = gtk::Box::new(gtk::Orientation::Vertical, 0);
        container.set_hexpand(true);
        container.set_vexpand(true);
        let menu = gio::Menu::new();
        menu.append(Some("Split _Right"), Some("tab.split-right"));
        menu.append(Some("Split _Down"), Some("tab.split-down"));
        menu.append(Some("_Move to Next Group"), Some("tab.move-next"));
        menu.append(Some("_Close"), Some("tab.close"));
        let workspace = Rc::new(Self {
            container,
            registry: RefCell::new(registry),
            make_context,
            panels: RefCell::default(),
            views: RefCell::default(),
            splits: RefCell::default(),
            focused: RefCell::default(),
            menu_page: RefCell::default(),
            rebuilding: Cell::new(false),
            rebuild_scheduled: Cell::new(false),
            on_change: RefCell::default(),
            menu,
        });
        workspace.install_actions();
        workspace
    }

    pub fn widget(&self) -> &gtk::Box {
        &self.container
    }

    pub fn registry(&self) -> std::cell::Ref<'_, PanelRegistry> {
        self.registry.borrow()
    }

    /// Registers panels that arrived after the window opened (plugins load once the database
    /// is open) and builds the open ones that were waiting as placeholders. Answers the
    /// providers registered (a clashing id is refused and logged).
    pub fn add_providers(self: &Rc<Self>, providers: Vec<PanelProvider>) -> Vec<PanelProvider> {
        let mut added = Vec::new();
        for provider in providers {
            let result = self.registry.borrow_mut().register(provider.clone());
            match result {
                Ok(()) => added.push(provider),
                Err(err) => tracing::warn!("plugin panel not registered: {err}"),
            }
        }
        let waiting = self
            .open_providers()
            .iter()
            .any(|id| added.iter().any(|p| &p.id == id));
        if waiting && let Some(layout) = self.layout() {
            self.load(&layout);
        }
        added
    }

    pub fn set_on_change(&self, on_change: Rc<dyn Fn()>) {
        *self.on_change.borrow_mut() = Some(on_change);
    }

    fn changed(&self) {
        let callback = self.on_change.borrow().clone();
        if let Some(callback) = callback {
            callback();
        }
    }

    /// Replaces everything with `layout` (panels are built anew).
    pub fn load(self: &Rc<Self>, layout: &Layout) {
        self.clear();
        self.panels.borrow_mut().clear();
        let root = self.realise(layout, &mut Vec::new());
        self.container.append(&root);
    }

    /// The layout as the widgets show it now, with every panel's saved state.
    pub fn layout(&self) -> Option<Layout> {
        let root = self.container.first_child()?;
        self.read(&root).and_then(Layout::normalised)
    }

    pub fn deliver(&self, event: &PanelEvent) {
        for open in self.panels.borrow().iter() {
            open.panel.event(event);
        }
    }

    pub fn deliver_quotes(&self, quotes: &[Quote]) {
        for open in self.panels.borrow().iter() {
            open.panel.quotes(quotes);
        }
    }

    /// Provider ids of the open panels, in tree order.
    pub fn open_providers(&self) -> Vec<String> {
        self.layout()
            .map(|l| l.panels().iter().map(|p| p.provider.clone()).collect())
            .unwrap_or_default()
    }

    /// Opens a panel in the group used last, or shows it if it is open and single.
    pub fn open(self: &Rc<Self>, provider_id: &str) {
        let provider = self.registry.borrow().get(provider_id).cloned();
        let single = provider.as_ref().is_none_or(|p| !p.multiple);
        if single {
            let existing = self
                .panels
                .borrow()
                .iter()
                .find(|p| p.provider == provider_id)
                .map(|p| p.widget.clone());
            if let Some(widget) = existing
                && let Some((view, page)) = self.page_of(&widget)
            {
                view.set_selected_page(&page);
                widget.child_focus(gtk::DirectionType::TabForward);
                return;
            }
        }
        let view = self
            .focused
            .borrow()
            .clone()
            .or_else(|| self.views.borrow().first().cloned());
        let Some(view) = view else {
            // Everything was closed: start a new group.
            self.load(&Layout::tabs(&[provider_id]));
            self.changed();
            return;
        };
        let page = self.add_page(&view, &PanelRef::new(provider_id));
        view.set_selected_page(&page);
        self.changed();
    }

    fn clear(&self) {
        self.rebuilding.set(true);
        for view in self.views.borrow_mut().drain(..) {
            while view.n_pages() > 0 {
                let page = view.nth_page(0);
                view.close_page(&page);
            }
        }
        self.rebuilding.set(false);
        self.splits.borrow_mut().clear();
        *self.focused.borrow_mut() = None;
        while let Some(child) = self.container.first_child() {
            self.container.remove(&child);
        }
    }

    /// Rebuilds the widgets for `layout`, reusing the open panels listed in tree order.
    fn rebuild(self: &Rc<Self>, layout: &Layout, mut reuse: Vec<gtk::Widget>) {
        self.clear();
        reuse.reverse();
        let root = self.realise(layout, &mut reuse);
        self.container.append(&root);
        self.changed();
    }

    fn realise(self: &Rc<Self>, layout: &Layout, reuse: &mut Vec<gtk::Widget>) -> gtk::Widget {
        match layout {
            Layout::Tabs { panels, active } => {
                let (group, view) = self.new_group();
                for panel in panels {
                    match reuse.pop() {
                        Some(widget) => {
                            let page = view.append(&widget);
                            self.title_page(&page, &widget);
                        }
                        None => {
                            self.add_page(&view, panel);
                        }
                    }
                }
                if view.n_pages() > 0 {
                    view.set_selected_page(
                        &view.nth_page((*active as i32).min(view.n_pages() - 1)),
                    );
                }
                group.upcast()
            }
            Layout::Split {
                orientation,
                ratio,
                first,
                second,
            } => {
                let paned = gtk::Paned::new(match orientation {
                    Orientation::Horizontal => gtk::Orientation::Horizontal,
                    Orientation::Vertical => gtk::Orientation::Vertical,
                });
                paned.set_wide_handle(true);
                paned.set_start_child(Some(&self.realise(first, reuse)));
                paned.set_end_child(Some(&self.realise(second, reuse)));
                paned.set_shrink_start_child(false);
                paned.set_shrink_end_child(false);
                self.apply_ratio(&paned, *ratio);
                self.splits.borrow_mut().push(Split {
                    paned: paned.clone(),
                    ratio: Cell::new(*ratio),
                });
                paned.upcast()
            }
        }
    }

    /// A `Paned` position given before the first allocation is clamped, so the ratio is
    /// applied once the split has a size; after that, dragging the handle updates it.
    fn apply_ratio(self: &Rc<Self>, paned: &gtk::Paned, ratio: f64) {
        let weak = Rc::downgrade(self);
        paned.add_tick_callback(move |paned, _| {
            let size = match paned.orientation() {
                gtk::Orientation::Horizontal => paned.width(),
                _ => paned.height(),
            };
            if size <= 0 {
                return glib::ControlFlow::Continue;
            }
            paned.set_position((f64::from(size) * ratio).round() as i32);
            if let Some(workspace) = weak.upgrade() {
                let weak = Rc::downgrade(&workspace);
                paned.connect_position_notify(move |paned| {
                    if let Some(workspace) = weak.upgrade() {
                        workspace.position_moved(paned);
                    }
                });
            }
            glib::ControlFlow::Break
        });
    }

    fn position_moved(&self, paned: &gtk::Paned) {
        let size = match paned.orientation() {
            gtk::Orientation::Horizontal => paned.width(),
            _ => paned.height(),
        };
        if size <= 0 {
            return;
        }
        let ratio = (f64::from(paned.position()) / f64::from(size)).clamp(0.05, 0.95);
        if let Some(split) = self.splits.borrow().iter().find(|s| s.paned == *paned) {
            split.ratio.set(ratio);
        }
        self.changed();
    }

    fn new_group(self: &Rc<Self>) -> (gtk::Box, adw::TabView) {
        let view = adw::TabView::new();
        view.set_vexpand(true);
        view.set_menu_model(Some(&self.menu));
        let bar = adw::TabBar::builder().view(&view).autohide(false).build();
        // Tab close buttons get names once their tabs exist (a frame later).
        let named = bar.clone();
        view.connect_page_attached(move |_, _, _| {
            let bar = named.clone();
            glib::idle_add_local_once(move || super::a11y::name_tab_close_buttons(&bar));
        });
        let group = gtk::Box::new(gtk::Orientation::Vertical, 0);
        group.append(&bar);
        group.append(&view);
        let weak = Rc::downgrade(self);
        view.connect_close_page(move |view, page| {
            if let Some(workspace) = weak.upgrade() {
                workspace.page_closed(view, page);
            } else {
                view.close_page_finish(page, true);
            }
            glib::Propagation::Stop
        });
        let weak = Rc::downgrade(self);
        view.connect_page_detached(move |view, _, _| {
            if let Some(workspace) = weak.upgrade()
                && !workspace.rebuilding.get()
            {
                if view.n_pages() == 0 {
                    workspace.schedule_collapse();
                }
                workspace.changed();
            }
        });
        let weak = Rc::downgrade(self);
        view.connect_page_reordered(move |_, _, _| {
            if let Some(workspace) = weak.upgrade() {
                workspace.changed();
            }
        });
        let weak = Rc::downgrade(self);
        view.connect_selected_page_notify(move |view| {
            if let Some(workspace) = weak.upgrade()
                && !workspace.rebuilding.get()
            {
                *workspace.focused.borrow_mut() = Some(view.clone());
                workspace.changed();
            }
        });
        let weak = Rc::downgrade(self);
        view.connect_setup_menu(move |_, page| {
            if let Some(workspace) = weak.upgrade() {
                *workspace.menu_page.borrow_mut() = page.cloned();
            }
        });
        // A tab dropped outside the window is not torn off into a second window: one window,
        // one layout to save.
        view.connect_create_window(|_| None);
        self.views.borrow_mut().push(view.clone());
        if self.focused.borrow().is_none() {
            *self.focused.borrow_mut() = Some(view.clone());
        }
        (group, view)
    }

    fn add_page(self: &Rc<Self>, view: &adw::TabView, panel: &PanelRef) -> adw::TabPage {
        let context = (self.make_context)(panel.state.clone());
        let provider = self.registry.borrow().get(&panel.provider).cloned();
        let built: Box<dyn Panel> = match &provider {
            Some(provider) => (provider.build)(context),
            None => Box::new(Placeholder::new(&panel.provider, panel.state.clone())),
        };
        let widget = built.widget();
        let title = provider
            .as_ref()
            .map_or_else(|| panel.provider.clone(), |p| p.title.clone());
        // Named now and whenever shown again: some panels build parts of themselves lazily.
        super::a11y::name_controls(&widget, &title);
        widget.connect_map(move |widget| super::a11y::name_controls(widget, &title));
        self.panels.borrow_mut().push(OpenPanel {
            provider: panel.provider.clone(),
            panel: built,
            widget: widget.clone(),
        });
        let page = view.append(&widget);
        self.title_page(&page, &widget);
        page
    }

    fn title_page(&self, page: &adw::TabPage, widget: &gtk::Widget) {
        let provider = self
            .panels
            .borrow()
            .iter()
            .find(|p| p.widget == *widget)
            .map(|p| p.provider.clone())
            .unwrap_or_default();
        let found = self.registry.borrow().get(&provider).cloned();
        match found {
            Some(p) => {
                page.set_title(&p.title);
                page.set_tooltip(&p.description);
                page.set_icon(Some(&gio::ThemedIcon::new(&p.icon)));
            }
            None => page.set_title(&format!("{provider} (unavailable)")),
        }
    }

    fn page_closed(&self, view: &adw::TabView, page: &adw::TabPage) {
        view.close_page_finish(page, true);
        if self.rebuilding.get() {
            return;
        }
        let child = page.child();
        self.panels.borrow_mut().retain(|p| p.widget != child);
    }

    fn schedule_collapse(self: &Rc<Self>) {
        if self.rebuild_scheduled.replace(true) {
            return;
        }
        let weak = Rc::downgrade(self);
        glib::idle_add_local_once(move || {
            if let Some(workspace) = weak.upgrade() {
                workspace.rebuild_scheduled.set(false);
                workspace.collapse();
            }
        });
    }

    /// Removes empty groups (after a drag emptied one).
    fn collapse(self: &Rc<Self>) {
        let Some((layout, widgets)) = self.snapshot() else {
            self.clear();
            self.changed();
            return;
        };
        self.rebuild(&layout, widgets);
    }

    /// The layout and the panels' widgets in the same (tree) order.
    fn snapshot(&self) -> Option<(Layout, Vec<gtk::Widget>)> {
        let layout = self.layout()?;
        let mut widgets = Vec::new();
        if let Some(root) = self.container.first_child() {
            collect_widgets(&root, &mut widgets);
        }
        Some((layout, widgets))
    }

    fn read(&self, widget: &gtk::Widget) -> Option<Layout> {
        if let Some(paned) = widget.downcast_ref::<gtk::Paned>() {
            let ratio = self
                .splits
                .borrow()
                .iter()
                .find(|s| s.paned == *paned)
                .map_or(0.5, |s| s.ratio.get());
            let first = paned.start_child().and_then(|c| self.read(&c));
            let second = paned.end_child().and_then(|c| self.read(&c));
            let orientation = match paned.orientation() {
                gtk::Orientation::Horizontal => Orientation::Horizontal,
                _ => Orientation::Vertical,
            };
            return match (first, second) {
                (Some(a), Some(b)) => Some(Layout::split(orientation, ratio, a, b)),
                (Some(only), None) | (None, Some(only)) => Some(only),
                (None, None) => None,
            };
        }
        let view = group_view(widget)?;
        let panels = self.panels.borrow();
        let refs: Vec<PanelRef> = (0..view.n_pages())
            .filter_map(|i| {
                let child = view.nth_page(i).child();
                panels.iter().find(|p| p.widget == child).map(|p| PanelRef {
                    provider: p.provider.clone(),
                    state: p.panel.saved_state(),
                })
            })
            .collect();
        let active = view
            .selected_page()
            .map_or(0, |page| view.page_position(&page).max(0) as usize);
        Some(Layout::Tabs {
            panels: refs,
            active,
        })
    }

    /// The tab menu's page, as a position in tree order.
    fn menu_index(&self) -> Option<usize> {
        let page = self.menu_page.borrow().clone()?;
        let (_, widgets) = self.snapshot()?;
        widgets.iter().position(|w| *w == page.child())
    }

    fn install_actions(self: &Rc<Self>) {
        let group = gio::SimpleActionGroup::new();
        type Entry = (&'static str, fn(&Rc<Workspace>, usize));
        let entries: [Entry; 4] = [
            ("split-right", |w, i| {
                w.rearrange(|l| ops::split_out(l, i, Orientation::Horizontal))
            }),
            ("split-down", |w, i| {
                w.rearrange(|l| ops::split_out(l, i, Orientation::Vertical))
            }),
            ("move-next", |w, i| {
                w.rearrange(|l| ops::move_to_next_group(l, i))
            }),
            ("close", |w, i| w.close_index(i)),
        ];
        for (name, act) in entries {
            let action = gio::SimpleAction::new(name, None);
            let weak: Weak<Self> = Rc::downgrade(self);
            action.connect_activate(move |_, _| {
                if let Some(workspace) = weak.upgrade()
                    && let Some(index) = workspace.menu_index()
                {
                    act(&workspace, index);
                }
            });
            group.add_action(&action);
        }
        self.container.insert_action_group("tab", Some(&group));
    }

    fn rearrange(self: &Rc<Self>, change: impl FnOnce(Layout) -> Layout) {
        let Some((layout, widgets)) = self.snapshot() else {
            return;
        };
        // Identify panels through the rearrangement by tagging each with its old position.
        let tagged = tag(layout);
        let changed = change(tagged);
        let order: Vec<gtk::Widget> = changed
            .panels()
            .iter()
            .filter_map(|p| {
                p.state
                    .as_ref()
                    .and_then(|s| s.get(TAG))
                    .and_then(|v| v.as_u64())
            })
            .filter_map(|i| widgets.get(i as usize).cloned())
            .collect();
        self.rebuild(&untag(changed), order);
    }

    fn close_index(self: &Rc<Self>, index: usize) {
        let Some((_, widgets)) = self.snapshot() else {
            return;
        };
        let Some(widget) = widgets.get(index) else {
            return;
        };
        if let Some((view, page)) = self.page_of(widget) {
            view.close_page(&page);
        }
    }

    /// The group and page holding a panel's widget (`TabView::page` asserts when the widget
    /// is in another group, so the pages are searched).
    fn page_of(&self, widget: &gtk::Widget) -> Option<(adw::TabView, adw::TabPage)> {
        self.views.borrow().iter().find_map(|view| {
            (0..view.n_pages())
                .map(|i| view.nth_page(i))
                .find(|page| page.child() == *widget)
                .map(|page| (view.clone(), page))
        })
    }

    /// Closes the selected tab of the focused group (Ctrl+W).
    pub fn close_current(&self) {
        let view = self.focused.borrow().clone();
        if let Some(view) = view
            && let Some(page) = view.selected_page()
        {
            view.close_page(&page);
        }
    }
}

const TAG: &str = "\u{0}workspace-position";

fn tag(layout: Layout) -> Layout {
    let mut next = 0u64;
    map_panels(layout, &mut |mut panel| {
        panel.state = Some(serde_json::json!({ TAG: next, "state": panel.state }));
        next += 1;
        panel
    })
}

fn untag(layout: Layout) -> Layout {
    map_panels(layout, &mut |mut panel| {
        panel.state = panel
            .state
            .and_then(|s| s.get("state").cloned())
            .filter(|s| !s.is_null());
        panel
    })
}

fn map_panels(layout: Layout, f: &mut impl FnMut(PanelRef) -> PanelRef) -> Layout {
    match layout {
        Layout::Tabs { panels, active } => Layout::Tabs {
            panels: panels.into_iter().map(&mut *f).collect(),
            active,
        },
        Layout::Split {
            orientation,
            ratio,
            first,
            second,
        } => {
            let first = map_panels(*first, f);
            let second = map_panels(*second, f);
            Layout::split(orientation, ratio, first, second)
        }
    }
}

/// The tab view of a group box (tab bar + tab view).
fn group_view(widget: &gtk::Widget) -> Option<adw::TabView> {
    let mut child = widget.first_child();
    while let Some(c) = child {
        if let Ok(view) = c.clone().downcast::<adw::TabView>() {
            return Some(view);
        }
        child = c.next_sibling();
    }
    None
}

fn collect_widgets(widget: &gtk::Widget, into: &mut Vec<gtk::Widget>) {
    if let Some(paned) = widget.downcast_ref::<gtk::Paned>() {
        if let Some(c) = paned.start_child() {
            collect_widgets(&c, into);
        }
        if let Some(c) = paned.end_child() {
            collect_widgets(&c, into);
        }
    } else if let Some(view) = group_view(widget) {
        into.extend((0..view.n_pages()).map(|i| view.nth_page(i).child()));
    }
}

//! The zoo's panel: a label showing the last price of its `SPY` subscription.

use tickwork_plugin_api::sdk::gtk::{self, prelude::*};
use tickwork_plugin_api::sdk::panel::{Panel, set_accessible_label};
use tickwork_plugin_api::sdk::{Event, MarketData, PanelCtx};

use crate::mode::{self, Mode};

pub(crate) struct ZooPanel {
    label: gtk::Label,
}

impl Panel for ZooPanel {
    const PANEL_ID: &'static str = "org.tickwork.zoo.panel";
    const TITLE: &'static str = "Zoo";

    fn create(ctx: &mut PanelCtx) -> Result<(Self, gtk::Widget), String> {
        if mode::is(Mode::PanicPanelCreate) {
            panic!("zoo: panic in panel create, as asked");
        }
        let label = gtk::Label::new(Some("zoo panel: waiting for SPY"));
        set_accessible_label(&label, "Zoo panel status");
        if let Err(e) = ctx.subscribe("SPY", MarketData::TICKS) {
            label.set_text(&format!("zoo panel: {e}"));
        }
        let root = gtk::Box::new(gtk::Orientation::Vertical, 6);
        root.append(&label);
        Ok((Self { label }, root.upcast()))
    }

    fn on_event(&mut self, _ctx: &mut PanelCtx, event: &Event<'_>) -> Result<(), String> {
        if let Event::Tick(t) = event
            && let Some(px) = t.mid_or_last()
        {
            self.label.set_text(&format!("zoo panel: SPY {px}"));
        }
        Ok(())
    }
}

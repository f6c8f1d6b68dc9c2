//! The parameters form: one control per parameter the script declares in `fn params()`, typed
//! like its default (an entry for integers, decimals and text, a switch for true/false), each
//! checked as it is typed. Values typed survive a re-check that keeps the parameter's type.

use std::cell::RefCell;
use std::rc::Rc;

use adw::prelude::*;
use tickwork_core::scripting::strategy::{ParamSpec, ParamValue, ParamValues};

enum Control {
    Entry(gtk::Entry),
    Switch(gtk::Switch),
}

struct Row {
    spec: ParamSpec,
    control: Control,
}

impl Row {
    fn value(&self) -> Result<ParamValue, String> {
        match &self.control {
            Control::Switch(s) => Ok(ParamValue::Bool(s.is_active())),
            Control::Entry(e) => self
                .spec
                .default
                .parse_like(&e.text())
                .map_err(|err| format!("{}: {err}", self.spec.name)),
        }
    }

    /// What is typed now, as text.
    fn text(&self) -> String {
        match &self.control {
            Control::Switch(s) => s.is_active().to_string(),
            Control::Entry(e) => e.text().to_string(),
        }
    }
}

#[derive(Clone)]
pub struct ParamsForm {
    pub widget: gtk::Box,
    holder: gtk::Box,
    problem: gtk::Label,
    rows: Rc<RefCell<Vec<Row>>>,
}

impl ParamsForm {
    pub fn new() -> Self {
        let title = gtk::Label::new(Some("Parameters"));
        title.add_css_class("heading");
        title.set_xalign(0.0);
        title.set_margin_start(6);
        title.set_margin_top(6);
        let holder = gtk::Box::new(gtk::Orientation::Vertical, 0);
        let problem = gtk::Label::new(None);
        problem.set_widget_name("scripts-param-problem");
        problem.add_css_class("error");
        problem.set_xalign(0.0);
        problem.set_wrap(true);
        problem.set_margin_start(6);
        problem.set_visible(false);
        let widget = gtk::Box::new(gtk::Orientation::Vertical, 0);
        widget.append(&title);
        widget.append(&holder);
        widget.append(&problem);
        let form = Self {
            widget,
            holder,
            problem,
            rows: Rc::default(),
        };
        form.set_specs(&[]);
        form
    }

    /// Shows the parameters `specs` declares; a parameter of the same name and type keeps
    /// what was typed.
    pub fn set_specs(&self, specs: &[ParamSpec]) {
        let same = {
            let rows = self.rows.borrow();
            rows.len() == specs.len()
                && rows.iter().zip(specs).all(|(r, s)| {
                    r.spec.name == s.name && r.spec.default.type_name() == s.default.type_name()
                })
        };
        if same {
            // Defaults may have changed: keep values, update what the placeholders say.
            for (row, spec) in self.rows.borrow_mut().iter_mut().zip(specs) {
                row.spec = spec.clone();
                if let Control::Entry(e) = &row.control {
                    e.set_placeholder_text(Some(&spec.default.to_string()));
                }
            }
            self.validate();
            return;
        }
        let typed: Vec<(String, &'static str, String)> = self
            .rows
            .borrow()
            .iter()
            .map(|r| (r.spec.name.clone(), r.spec.default.type_name(), r.text()))
            .collect();
        while let Some(child) = self.holder.first_child() {
            self.holder.remove(&child);
        }
        if specs.is_empty() {
            let none = gtk::Label::new(Some(
                "The script declares none (add fn params() { #{ fast: 10 } }).",
            ));
            none.add_css_class("dim-label");
            none.set_xalign(0.0);
            none.set_wrap(true);
            none.set_margin_start(6);
            none.set_margin_bottom(6);
            self.holder.append(&none);
            self.rows.borrow_mut().clear();
            self.validate();
            return;
        }
        let mut rows = Vec::new();
        let mut cells: Vec<(String, gtk::Widget)> = Vec::new();
        for spec in specs {
            let kept = typed
                .iter()
                .find(|(n, t, _)| *n == spec.name && *t == spec.default.type_name())
                .map(|(_, _, text)| text.clone());
            let tooltip = format!(
                "{} ({}, default {})",
                spec.name,
                spec.default.type_name(),
                spec.default
            );
            let control = match &spec.default {
                ParamValue::Bool(default) => {
                    let switch = gtk::Switch::new();
                    switch.set_active(kept.map_or(*default, |t| t == "true"));
                    switch.set_valign(gtk::Align::Center);
                    switch.set_halign(gtk::Align::Start);
                    Control::Switch(switch)
                }
                default => {
                    let entry = gtk::Entry::new();
                    entry.set_text(&kept.unwrap_or_else(|| default.to_string()));
                    entry.set_placeholder_text(Some(&default.to_string()));
                    entry.set_width_chars(7);
                    if matches!(default, ParamValue::Int(_) | ParamValue::Decimal(_)) {
                        EditableExt::set_alignment(&entry, 1.0);
                        entry.add_css_class("numeric");
                    }
                    let (rows, problem) = (Rc::downgrade(&self.rows), self.problem.clone());
                    entry.connect_changed(move |_| {
                        if let Some(rows) = rows.upgrade() {
                            show_problem(&rows, &problem);
                        }
                    });
                    Control::Entry(entry)
                }
            };
            let widget: gtk::Widget = match &control {
                Control::Entry(e) => e.clone().upcast(),
                Control::Switch(s) => s.clone().upcast(),
            };
            widget.set_widget_name(&format!("scripts-param-{}", spec.name));
            widget.set_tooltip_text(Some(&tooltip));
            cells.push((spec.name.replace('_', "__"), widget));
            rows.push(Row {
                spec: spec.clone(),
                control,
            });
        }
        // Three a row.
        let grid: Vec<Vec<(Option<&str>, gtk::Widget)>> = cells
            .chunks(3)
            .map(|row| {
                row.iter()
                    .map(|(label, w)| (Some(label.as_str()), w.clone()))
                    .collect()
            })
            .collect();
        let grid = super::form_grid(&grid);
        grid.set_margin_top(0);
        self.holder.append(&grid);
        self.rows.replace(rows);
        self.validate();
    }

    /// The values typed, or the first problem naming its parameter; every bad entry is
    /// marked.
    pub fn values(&self) -> Result<ParamValues, String> {
        values(&self.rows)
    }

    fn validate(&self) {
        show_problem(&self.rows, &self.problem);
    }
}

fn show_problem(rows: &RefCell<Vec<Row>>, label: &gtk::Label) {
    let problem = values(rows).err();
    label.set_visible(problem.is_some());
    label.set_text(problem.as_deref().unwrap_or(""));
}

fn values(rows: &RefCell<Vec<Row>>) -> Result<ParamValues, String> {
    let mut values = ParamValues::new();
    let mut first = None;
    for row in rows.borrow().iter() {
        let value = row.value();
        if let Control::Entry(e) = &row.control {
            if value.is_err() {
                e.add_css_class("error");
            } else {
                e.remove_css_class("error");
            }
        }
        match value {
            Ok(v) => {
                values.insert(row.spec.name.clone(), v);
            }
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    match first {
        Some(problem) => Err(problem),
        None => Ok(values),
    }
}

//! Driving the real window from inside its own main loop: find widgets by name, click, type,
//! answer dialogs, read tables, wait with deadlines, and save screenshots.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use adw::prelude::*;
use gtk::glib;

pub type Step = Result<(), String>;

/// Every widget of every toplevel, depth first.
pub fn all_widgets() -> Vec<gtk::Widget> {
    let mut out = Vec::new();
    for top in gtk::Window::list_toplevels() {
        collect(&top, &mut out);
    }
    out
}

fn collect(widget: &gtk::Widget, out: &mut Vec<gtk::Widget>) {
    out.push(widget.clone());
    let mut child = widget.first_child();
    while let Some(c) = child {
        collect(&c, out);
        child = c.next_sibling();
    }
}

pub fn descendants(widget: &gtk::Widget) -> Vec<gtk::Widget> {
    let mut out = Vec::new();
    collect(widget, &mut out);
    out
}

pub fn find(name: &str) -> Option<gtk::Widget> {
    all_widgets().into_iter().find(|w| w.widget_name() == name)
}

pub fn main_window() -> Option<adw::ApplicationWindow> {
    gtk::Window::list_toplevels()
        .into_iter()
        .find_map(|w| w.downcast::<adw::ApplicationWindow>().ok())
}

pub async fn sleep(ms: u64) {
    glib::timeout_future(Duration::from_millis(ms)).await;
}

/// Polls `probe` every 50 ms until it gives a value, or fails naming `what` after `secs`.
pub async fn wait<T>(
    what: &str,
    secs: u64,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T, String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = probe() {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {secs} s waiting for {what}"));
        }
        sleep(50).await;
    }
}

pub async fn widget(name: &str) -> Result<gtk::Widget, String> {
    wait(&format!("a widget named `{name}`"), 20, || find(name)).await
}

pub async fn click(name: &str) -> Step {
    let button = wait(&format!("a sensitive button `{name}`"), 20, || {
        find(name)
            .and_then(|w| w.downcast::<gtk::Button>().ok())
            .filter(|b| b.is_sensitive())
    })
    .await?;
    button.emit_clicked();
    Ok(())
}

/// Types into an entry (or anything editable) and presses Enter.
pub async fn enter_text(name: &str, text: &str, activate: bool) -> Step {
    let widget = widget(name).await?;
    let editable = editable_of(&widget).ok_or(format!("`{name}` is not editable"))?;
    editable.set_text(text);
    if activate && let Some(entry) = widget.downcast_ref::<gtk::Entry>() {
        entry.emit_activate();
    } else if activate && let Some(entry) = widget.downcast_ref::<gtk::SearchEntry>() {
        entry.emit_activate();
    } else if activate && let Some(row) = widget.downcast_ref::<adw::EntryRow>() {
        row.emit_by_name::<()>("entry-activated", &[]);
    }
    Ok(())
}

fn editable_of(widget: &gtk::Widget) -> Option<gtk::Editable> {
    widget.clone().downcast::<gtk::Editable>().ok()
}

/// Answers a message dialog by its widget name.
pub async fn respond(dialog: &str, response: &str) -> Step {
    let dialog = wait(&format!("the dialog `{dialog}`"), 20, || {
        gtk::Window::list_toplevels()
            .into_iter()
            .filter_map(|w| w.downcast::<adw::MessageDialog>().ok())
            .find(|d| d.widget_name() == dialog)
    })
    .await?;
    dialog.response(response);
    Ok(())
}

/// The text of every label under `widget`, in tree order.
pub fn label_texts(widget: &gtk::Widget) -> Vec<String> {
    descendants(widget)
        .into_iter()
        .filter_map(|w| w.downcast::<gtk::Label>().ok())
        .filter(|l| l.is_visible())
        .map(|l| l.text().to_string())
        .collect()
}

/// The rows of a `ColumnView` (by widget name) as the texts of their labels.
pub fn table_rows(name: &str) -> Vec<Vec<String>> {
    let Some(view) = find(name) else {
        return Vec::new();
    };
    descendants(&view)
        .into_iter()
        .filter(|w| w.css_name() == "row" && w.parent().is_some_and(|p| p.css_name() == "listview"))
        .map(|row| label_texts(&row))
        .filter(|texts| !texts.is_empty())
        .collect()
}

/// Every toast and label text of the main window (toasts are labels in the overlay).
pub fn window_text() -> String {
    main_window()
        .map(|w| label_texts(w.upcast_ref()).join(" | "))
        .unwrap_or_default()
}

pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Saves the main window as `target/screenshots/<name>.png`.
pub async fn screenshot(name: &str) -> Step {
    // A few frames so that the last change is painted.
    sleep(300).await;
    let window = main_window().ok_or("no main window")?;
    let path = screenshot_dir().join(format!("{name}.png"));
    // A window in the middle of a relayout can paint nothing for a frame: try a few frames.
    let mut last = String::new();
    for _ in 0..10 {
        match tickwork::gui::screenshot::save_png(&window, &path) {
            Ok(()) => return Ok(()),
            Err(err) => last = format!("{name}: {err:#}"),
        }
        sleep(100).await;
    }
    Err(last)
}

/// Shows a panel by provider id (through the sidebar's row, as a trader would).
pub async fn open_panel(id: &str) -> Step {
    let row = widget(&format!("open-{id}")).await?;
    let row = row
        .downcast::<gtk::ListBoxRow>()
        .map_err(|_| format!("open-{id} is not a sidebar row"))?;
    row.emit_by_name::<()>("activate", &[]);
    Ok(())
}

/// Clicks the button (or view-switcher tab) whose visible text is `text`.
pub async fn click_labelled(text: &str) -> Step {
    let button = wait(&format!("a button labelled `{text}`"), 20, || {
        all_widgets().into_iter().find_map(|w| {
            let button = w
                .clone()
                .downcast::<gtk::Button>()
                .ok()
                .map(|b| b.upcast::<gtk::Widget>())
                .or_else(|| {
                    w.clone()
                        .downcast::<gtk::ToggleButton>()
                        .ok()
                        .map(|b| b.upcast())
                })?;
            label_texts(&button)
                .iter()
                .any(|t| t == text)
                .then_some(button)
        })
    })
    .await?;
    if let Some(toggle) = button.downcast_ref::<gtk::ToggleButton>() {
        toggle.set_active(true);
    } else if let Some(plain) = button.downcast_ref::<gtk::Button>() {
        plain.emit_clicked();
    }
    Ok(())
}

/// Toggles a toggle button by widget name.
pub async fn click_labelled_toggle(name: &str) -> Step {
    let toggle = widget(name)
        .await?
        .downcast::<gtk::ToggleButton>()
        .map_err(|_| format!("`{name}` is not a toggle button"))?;
    toggle.set_active(!toggle.is_active());
    Ok(())
}

//! The script editor: a GtkSourceView with Rhai highlighting (the language file in
//! `data/language-specs/rhai.lang`, embedded and written where a private language manager
//! looks), the Adwaita style scheme following the light or dark appearance, and error marks:
//! the line marked in the gutter with an icon and a tint, the column underlined.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use adw::prelude::*;
use gtk::{gdk, glib, pango};
use sourceview5::prelude::*;
use tickwork_core::scripting::ScriptError;

/// The Rhai language definition, shipped in the binary.
pub const RHAI_LANG: &str = include_str!("../../../../../../data/language-specs/rhai.lang");

/// The mark category of a script error (one per buffer at a time).
pub const ERROR_MARK: &str = "error";
const ERROR_TAG: &str = "script-error";

/// Writes the language file under the user's cache directory (only when it changed) and
/// returns that directory.
fn language_dir() -> Option<PathBuf> {
    let candidates = [
        glib::user_cache_dir().join("tickwork/language-specs"),
        std::env::temp_dir().join(format!("tickwork-{}/language-specs", std::process::id())),
    ];
    candidates.into_iter().find(|dir| {
        let file = dir.join("rhai.lang");
        if std::fs::read_to_string(&file).is_ok_and(|t| t == RHAI_LANG) {
            return true;
        }
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&file, RHAI_LANG))
            .map_err(|e| tracing::warn!(error = %e, dir = %dir.display(), "writing rhai.lang"))
            .is_ok()
    })
}

thread_local! {
    /// A manager of our own: the default one may already have read its search path.
    static LANGUAGES: sourceview5::LanguageManager = {
        let manager = sourceview5::LanguageManager::new();
        if let Some(dir) = language_dir() {
            manager.prepend_search_path(&dir.to_string_lossy());
        }
        manager
    };
}

/// The Rhai language, if GtkSourceView could read its definition.
pub fn rhai() -> Option<sourceview5::Language> {
    LANGUAGES.with(|m| m.language("rhai"))
}

/// Adwaita or Adwaita-dark, as the window looks now.
fn apply_scheme(buffer: &sourceview5::Buffer) {
    let dark = adw::StyleManager::default().is_dark();
    let id = if dark { "Adwaita-dark" } else { "Adwaita" };
    let schemes = sourceview5::StyleSchemeManager::default();
    if let Some(scheme) = schemes.scheme(id).or_else(|| schemes.scheme("classic")) {
        buffer.set_style_scheme(Some(&scheme));
    }
}

/// The editor: the view, its buffer, and the message of the error marked now.
#[derive(Clone)]
pub struct Editor {
    pub view: sourceview5::View,
    pub buffer: sourceview5::Buffer,
    message: Rc<RefCell<String>>,
}

impl Editor {
    pub fn new() -> Self {
        let buffer = sourceview5::Buffer::new(None::<&gtk::TextTagTable>);
        match rhai() {
            Some(language) => buffer.set_language(Some(&language)),
            None => tracing::warn!("the Rhai language definition could not be loaded"),
        }
        buffer.set_highlight_syntax(true);
        buffer.set_highlight_matching_brackets(true);
        apply_scheme(&buffer);
        let weak = buffer.downgrade();
        adw::StyleManager::default().connect_dark_notify(move |_| {
            if let Some(buffer) = weak.upgrade() {
                apply_scheme(&buffer);
            }
        });
        buffer.create_tag(
            Some(ERROR_TAG),
            &[("underline", &pango::Underline::Error.to_value())],
        );

        let view = sourceview5::View::with_buffer(&buffer);
        view.set_widget_name("scripts-editor");
        view.set_monospace(true);
        view.set_show_line_numbers(true);
        view.set_highlight_current_line(true);
        view.set_show_line_marks(true);
        view.set_auto_indent(true);
        view.set_indent_on_tab(true);
        view.set_insert_spaces_instead_of_tabs(true);
        view.set_tab_width(4);
        view.set_smart_backspace(true);
        view.set_left_margin(4);
        view.set_top_margin(4);
        view.set_bottom_margin(4);
        view.set_hexpand(true);
        view.set_vexpand(true);
        let message: Rc<RefCell<String>> = Rc::default();
        let attributes = sourceview5::MarkAttributes::new();
        attributes.set_icon_name("dialog-error-symbolic");
        attributes.set_background(&gdk::RGBA::new(0.88, 0.11, 0.14, 0.18));
        let shown = message.clone();
        attributes.connect_query_tooltip_text(move |_, _| shown.borrow().clone());
        view.set_mark_attributes(ERROR_MARK, &attributes, 10);
        crate::gui::a11y::set_label(&view, "Script source");
        Self {
            view,
            buffer,
            message,
        }
    }

    /// Removes the error mark and underline.
    pub fn clear_error(&self) {
        let (start, end) = self.buffer.bounds();
        self.buffer
            .remove_source_marks(&start, &end, Some(ERROR_MARK));
        self.buffer.remove_tag_by_name(ERROR_TAG, &start, &end);
        self.message.borrow_mut().clear();
    }

    /// Marks `error`: the gutter icon and tint on its line, its column underlined (to the end
    /// of the word there). Returns the 1-based line marked, if the error has one.
    pub fn show_error(&self, error: &ScriptError) -> Option<usize> {
        self.clear_error();
        let buffer = &self.buffer;
        let line = error.line?;
        let line_index = i32::try_from(line.saturating_sub(1)).ok()?;
        let line_start = buffer.iter_at_line(line_index)?;
        buffer.create_source_mark(None, ERROR_MARK, &line_start);
        self.message.replace(error.to_string());
        let mut end_of_line = line_start;
        if !end_of_line.ends_line() {
            end_of_line.forward_to_line_end();
        }
        let column = error.column.unwrap_or(1).saturating_sub(1);
        let mut start = buffer
            .iter_at_line_offset(line_index, i32::try_from(column).unwrap_or(0))
            .unwrap_or(line_start);
        if start.offset() >= end_of_line.offset() && start.offset() > line_start.offset() {
            // At the end of the line (a missing `;`): underline what comes before.
            start = end_of_line;
            start.backward_char();
        }
        let mut end = start;
        if !end.forward_word_end() || end.offset() > end_of_line.offset() || end == start {
            end = start;
            end.forward_char();
        }
        buffer.apply_tag_by_name(ERROR_TAG, &start, &end);
        Some(line)
    }

    /// The 1-based lines carrying an error mark (what the tests check).
    pub fn error_lines(&self) -> Vec<usize> {
        (0..self.buffer.line_count())
            .filter(|&line| {
                !self
                    .buffer
                    .source_marks_at_line(line, Some(ERROR_MARK))
                    .is_empty()
            })
            .map(|line| usize::try_from(line).unwrap_or(0) + 1)
            .collect()
    }

    /// Puts the cursor at the error and scrolls to it.
    pub fn reveal(&self, error: &ScriptError) {
        let buffer = &self.buffer;
        let Some(line) = error
            .line
            .and_then(|l| i32::try_from(l.saturating_sub(1)).ok())
        else {
            return;
        };
        let column = error
            .column
            .and_then(|c| i32::try_from(c.saturating_sub(1)).ok())
            .unwrap_or(0);
        if let Some(mut at) = buffer
            .iter_at_line_offset(line, column)
            .or_else(|| buffer.iter_at_line(line))
        {
            buffer.place_cursor(&at);
            self.view.scroll_to_iter(&mut at, 0.1, false, 0.0, 0.5);
        }
    }

    /// The whole text.
    pub fn text(&self) -> String {
        let (start, end) = self.buffer.bounds();
        self.buffer.text(&start, &end, true).to_string()
    }

    /// Replaces the text (not undoable: another script was opened).
    pub fn set_text(&self, text: &str) {
        self.clear_error();
        self.buffer.begin_irreversible_action();
        self.buffer.set_text(text);
        self.buffer.end_irreversible_action();
        self.buffer.place_cursor(&self.buffer.start_iter());
    }
}

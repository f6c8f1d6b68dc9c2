//! Saving a window as PNG, rendered by GTK itself (no X server grab), for docs and GUI tests.

use std::path::Path;

use gtk::prelude::*;

/// Renders `window` as it is now into a PNG file.
pub fn save_png(window: &impl IsA<gtk::Widget>, path: &Path) -> anyhow::Result<()> {
    let widget = window.as_ref();
    let (width, height) = (widget.width(), widget.height());
    anyhow::ensure!(
        width > 0 && height > 0,
        "window is not realised yet ({width}x{height})"
    );
    let paintable = gtk::WidgetPaintable::new(Some(widget));
    let snapshot = gtk::Snapshot::new();
    paintable.snapshot(&snapshot, f64::from(width), f64::from(height));
    let node = snapshot
        .to_node()
        .ok_or_else(|| anyhow::anyhow!("the window drew nothing"))?;
    let renderer = widget
        .native()
        .ok_or_else(|| anyhow::anyhow!("the window has no native surface"))?
        .renderer()
        .ok_or_else(|| anyhow::anyhow!("the window has no renderer"))?;
    let texture = renderer.render_texture(&node, None);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    texture
        .save_to_png(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

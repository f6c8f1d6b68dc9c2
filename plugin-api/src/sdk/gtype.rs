//! GObject type names prefixed with the plugin id. GObject types are process-wide and can
//! never be unregistered, so two plugins (or a plugin and the host) that both register
//! `HeatCell` would collide and the second registration panics. [`crate::gtype_name!`] makes
//! the prefix at compile time: `gtype_name!("org.tickwork.example.chain-heatmap", "Cell")` is
//! `"OrgTickworkExampleChainHeatmapCell"`, usable as `ObjectSubclass::NAME`.

/// The longest name [`gtype_name_buf`] builds.
pub const GTYPE_NAME_MAX: usize = 128;

/// Builds the prefixed name into a buffer (for [`crate::gtype_name!`]): each part of the id
/// between `.`, `-` or `_` is capitalised and joined, then `name` is appended; any other
/// character than an ASCII letter or digit is dropped. Fails the build if the result would be
/// longer than [`GTYPE_NAME_MAX`] or `name` is empty.
pub const fn gtype_name_buf(plugin_id: &str, name: &str) -> ([u8; GTYPE_NAME_MAX], usize) {
    let mut out = [0u8; GTYPE_NAME_MAX];
    let mut len = 0;
    let id = plugin_id.as_bytes();
    let mut i = 0;
    let mut upper = true;
    while i < id.len() {
        let c = id[i];
        if c == b'.' || c == b'-' || c == b'_' {
            upper = true;
        } else if c.is_ascii_alphanumeric() {
            assert!(len < GTYPE_NAME_MAX, "GType name too long");
            out[len] = if upper { c.to_ascii_uppercase() } else { c };
            len += 1;
            upper = false;
        }
        i += 1;
    }
    let name = name.as_bytes();
    assert!(!name.is_empty(), "empty GType name");
    let mut j = 0;
    while j < name.len() {
        let c = name[j];
        if c.is_ascii_alphanumeric() || c == b'_' {
            assert!(len < GTYPE_NAME_MAX, "GType name too long");
            out[len] = c;
            len += 1;
        }
        j += 1;
    }
    (out, len)
}

/// A GObject type name prefixed with the plugin id, as a `&'static str` constant:
/// `gtype_name!("org.tickwork.example.chain-heatmap", "Cell")` →
/// `"OrgTickworkExampleChainHeatmapCell"`. See [`crate::sdk::gtype`].
#[macro_export]
macro_rules! gtype_name {
    ($plugin_id:expr, $name:expr) => {{
        const BUF: ([u8; $crate::sdk::gtype::GTYPE_NAME_MAX], usize) =
            $crate::sdk::gtype::gtype_name_buf($plugin_id, $name);
        const NAME: &str = match ::core::str::from_utf8(BUF.0.split_at(BUF.1).0) {
            Ok(s) => s,
            Err(_) => panic!("GType name is not ASCII"),
        };
        NAME
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_prefixed_and_camel_cased() {
        const NAME: &str = crate::gtype_name!("org.tickwork.example.chain-heatmap", "Cell");
        assert_eq!(NAME, "OrgTickworkExampleChainHeatmapCell");
        assert_eq!(crate::gtype_name!("com.x_y", "A1"), "ComXYA1");
    }
}

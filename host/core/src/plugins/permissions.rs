//! What a plugin may do, as its manifest asks and the user granted: checked by the host's
//! service tables on every call, never trusted to the plugin.

use serde::{Deserialize, Serialize};

/// The `[permissions]` table of `plugin.toml`, as granted when the user trusted the bundle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// `market_data = ["subscribe"]`: quotes and bars through `tickwork.host.market-data/1`.
    pub market_data: bool,
    /// `orders = ["submit:paper"]`: intents on paper accounts and the simulator.
    pub orders_paper: bool,
    /// `orders = ["submit:live"]`: intents on live accounts (each account still needs arming).
    pub orders_live: bool,
    /// `storage = ["own-namespace"]`: the kv store under the plugin's id.
    pub storage: bool,
    /// `margin = ["override"]`: margin rules may lower the built-in requirement.
    pub margin_override: bool,
}

impl Permissions {
    /// The permission strings as stored with the trust grant (`plugins.permissions`), in a
    /// fixed order.
    pub fn to_strings(&self) -> Vec<String> {
        let all = [
            (self.market_data, "market_data:subscribe"),
            (self.orders_paper, "orders:submit:paper"),
            (self.orders_live, "orders:submit:live"),
            (self.storage, "storage:own-namespace"),
            (self.margin_override, "margin:override"),
        ];
        all.iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| (*name).to_owned())
            .collect()
    }

    /// Reads what [`Self::to_strings`] wrote; an unknown string is an error naming it.
    pub fn from_strings(items: &[String]) -> Result<Self, String> {
        let mut out = Self::default();
        for item in items {
            match item.as_str() {
                "market_data:subscribe" => out.market_data = true,
                "orders:submit:paper" => out.orders_paper = true,
                "orders:submit:live" => out.orders_live = true,
                "storage:own-namespace" => out.storage = true,
                "margin:override" => out.margin_override = true,
                other => return Err(format!("unknown permission `{other}`")),
            }
        }
        Ok(out)
    }

    /// Whether everything `self` asks for is within `granted`.
    pub fn within(&self, granted: &Permissions) -> bool {
        (!self.market_data || granted.market_data)
            && (!self.orders_paper || granted.orders_paper)
            && (!self.orders_live || granted.orders_live)
            && (!self.storage || granted.storage)
            && (!self.margin_override || granted.margin_override)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_unknown_is_named() {
        let p = Permissions {
            market_data: true,
            orders_paper: true,
            ..Permissions::default()
        };
        assert_eq!(Permissions::from_strings(&p.to_strings()).unwrap(), p);
        let err = Permissions::from_strings(&["orders:everything".to_owned()]).unwrap_err();
        assert!(err.contains("orders:everything"), "{err}");
        assert!(p.within(&p));
        assert!(!p.within(&Permissions::default()));
    }
}

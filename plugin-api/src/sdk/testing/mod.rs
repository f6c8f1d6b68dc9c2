//! Running a plugin in-process against a fake host (feature `testing`): [`FakeHost`]
//! implements the host table and the three services (recording intents, handing out
//! instrument ids, a kv map, captured log lines, configurable permissions) and drives a
//! plugin's descriptor through the C ABI exactly as the real host does.
//!
//! ```text
//! let host = FakeHost::new();
//! let plugin = host.load(my_plugin::tickwork_plugin_descriptor())?;
//! let mut s = plugin.strategy("org.example.pairs", r#"{"symbol":"SPY"}"#)?;
//! let spy = host.instrument_id("SPY").unwrap();
//! assert_eq!(s.bar(spy, dec!(100)), TW_OK);
//! assert_eq!(host.intents().len(), 1);
//! ```

mod driver;
mod encode;
mod services;

#[cfg(feature = "gtk")]
pub use driver::FakePanel;
pub use driver::{FakeMarginRule, FakePlugin, FakeStrategy};
pub use encode::{EncodedEvent, encode_event};
pub use services::{FakeHost, FakePermissions, LogLine, RecordedIntent, Subscription};

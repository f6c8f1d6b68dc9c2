//! Margin calculator commands.

use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{MarginCommand, MarginEvent};

pub async fn handle(services: Services, command: MarginCommand) {
    match command {
        MarginCommand::Live { account } => {
            services.tell(MarginEvent::Calculated {
                account,
                text: String::new(),
            });
        }
    }
}

/// Updates this panel group follows while a session runs.
pub fn follow(_services: &Services, _live: &Live) -> Vec<JoinHandle<()>> {
    Vec::new()
}

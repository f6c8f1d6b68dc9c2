//! Account commands: positions and account values.

use tokio::task::JoinHandle;

use super::{Live, Services};
use crate::gui::boundary::{AccountCommand, AccountEvent};

pub async fn handle(services: Services, command: AccountCommand) {
    match command {
        AccountCommand::Refresh { account } => {
            services.tell(AccountEvent::Positions {
                account: account.clone(),
                positions: Vec::new(),
            });
        }
    }
}

/// Position and account value updates, for the positions panel.
pub fn follow(_services: &Services, _live: &Live) -> Vec<JoinHandle<()>> {
    Vec::new()
}

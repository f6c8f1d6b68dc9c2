//! Opening the database the configuration points at, embedded cluster included.

use super::embedded::{EmbeddedCluster, EmbeddedError};
use super::{DatabaseTarget, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("embedded database: {0}")]
    Embedded(#[from] EmbeddedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A connected, migrated store, plus the embedded cluster it runs on (if any).
///
/// Keep it alive for as long as the database is used; [`OpenStore::close`] closes the pool
/// first and then releases the cluster, so the server is not stopped under open connections.
#[derive(Debug)]
pub struct OpenStore {
    pub store: Store,
    cluster: Option<EmbeddedCluster>,
}

impl OpenStore {
    pub fn cluster(&self) -> Option<&EmbeddedCluster> {
        self.cluster.as_ref()
    }

    /// Closes connections, then stops the embedded server if this was its last user.
    pub async fn close(self) -> Result<(), EmbeddedError> {
        self.store.close().await;
        match self.cluster {
            Some(cluster) => tokio::task::spawn_blocking(move || cluster.stop().map(drop))
                .await
                .unwrap_or_else(|join| {
                    Err(EmbeddedError::Command {
                        command: "stop embedded server".into(),
                        message: join.to_string(),
                    })
                }),
            None => Ok(()),
        }
    }
}

/// Connects to `target` (starting the embedded cluster if that is the target) and, when
/// `migrate` is set, applies pending migrations.
pub async fn open(target: DatabaseTarget, migrate: bool) -> Result<OpenStore, OpenError> {
    let (store, cluster) = match target {
        DatabaseTarget::Server { options, describe } => {
            (Store::connect(*options, &describe).await?, None)
        }
        DatabaseTarget::Embedded(config) => {
            let cluster = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&config))
                .await
                .map_err(|join| EmbeddedError::Command {
                    command: "start embedded server".into(),
                    message: join.to_string(),
                })??;
            cluster.ensure_database().await?;
            let store = Store::connect(cluster.connect_options(), &cluster.describe()).await?;
            (store, Some(cluster))
        }
    };
    let opened = OpenStore { store, cluster };
    if migrate {
        opened.store.migrate().await?;
    }
    Ok(opened)
}

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
/// Keep it alive for as long as the database is used, and end with [`OpenStore::close`]: it
/// closes the pool first and then releases the cluster, so the server is not stopped under
/// open connections. Dropping it without `close` leaves the embedded server running (see
/// [`super::embedded`]).
#[derive(Debug)]
pub struct OpenStore {
    pub store: Store,
    cluster: Option<EmbeddedCluster>,
    describe: String,
}

impl OpenStore {
    pub fn cluster(&self) -> Option<&EmbeddedCluster> {
        self.cluster.as_ref()
    }

    /// Where the data is, for messages: the server's URL with any secret redacted, or the
    /// embedded cluster's directory.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Closes connections, then stops the embedded server if this was its last user.
    pub async fn close(self) -> Result<(), EmbeddedError> {
        self.store.close().await;
        match self.cluster {
            Some(cluster) => cluster.shutdown().await.map(drop),
            None => Ok(()),
        }
    }
}

/// Connects to `target` (starting the embedded cluster if that is the target) and, when
/// `migrate` is set, applies pending migrations. On failure everything it started is shut down
/// again before the error is returned.
pub async fn open(target: DatabaseTarget, migrate: bool) -> Result<OpenStore, OpenError> {
    let opened = match target {
        DatabaseTarget::Server { options, describe } => OpenStore {
            store: Store::connect(*options, &describe).await?,
            cluster: None,
            describe,
        },
        DatabaseTarget::Embedded(config) => {
            let cluster = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&config))
                .await
                .map_err(|join| EmbeddedError::Command {
                    command: "start embedded server".into(),
                    message: join.to_string(),
                })??;
            let connected = async {
                cluster.ensure_database().await?;
                let store = Store::connect(cluster.connect_options(), &cluster.describe()).await?;
                Ok::<_, OpenError>(store)
            }
            .await;
            match connected {
                Ok(store) => OpenStore {
                    store,
                    describe: cluster.describe(),
                    cluster: Some(cluster),
                },
                Err(err) => {
                    if let Err(stop) = cluster.shutdown().await {
                        tracing::warn!(error = %stop, "could not stop the embedded PostgreSQL");
                    }
                    return Err(err);
                }
            }
        }
    };
    if migrate && let Err(err) = opened.store.migrate().await {
        if let Err(stop) = opened.close().await {
            tracing::warn!(error = %stop, "could not stop the embedded PostgreSQL");
        }
        return Err(err.into());
    }
    Ok(opened)
}

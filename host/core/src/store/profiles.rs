//! Connection profiles: where TWS or IB Gateway listens, and how to behave there.

use std::net::IpAddr;

use sqlx::PgPool;

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectionProfile {
    pub name: String,
    pub host: String,
    pub port: i32,
    pub client_id: i32,
    /// The account to trade and show first; `None` means the first managed account.
    pub account: Option<String>,
    /// No order ever leaves the workbench while set.
    pub read_only: bool,
    /// The TWS API is unauthenticated plain TCP: a non-loopback host must be opted into.
    pub allow_remote: bool,
    /// On error 326 (client id in use), try the next free id instead of failing.
    pub auto_client_id: bool,
}

impl ConnectionProfile {
    /// TWS paper trading on this machine, read-only: the safe starting point.
    pub fn local_paper(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            host: "127.0.0.1".to_owned(),
            port: 7497,
            client_id: 1,
            account: None,
            read_only: true,
            allow_remote: false,
            auto_client_id: false,
        }
    }

    /// Checks the rules the database cannot: loopback unless the user opted in.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if !self.allow_remote && !is_loopback(&self.host) {
            return Err(ProfileError::RemoteNotAllowed {
                name: self.name.clone(),
                host: self.host.clone(),
            });
        }
        if !(1..=65535).contains(&self.port) {
            return Err(ProfileError::BadPort(self.port));
        }
        if self.client_id < 0 {
            return Err(ProfileError::BadClientId(self.client_id));
        }
        Ok(())
    }
}

/// `localhost` or a loopback address.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "profile `{name}`: host {host} is not loopback; the TWS API is unencrypted and \
         unauthenticated, so allow remote hosts on the profile (--allow-remote) to connect anyway"
    )]
    RemoteNotAllowed { name: String, host: String },
    #[error("port {0} is outside 1..65535")]
    BadPort(i32),
    #[error("client id {0} is negative")]
    BadClientId(i32),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates or replaces the profile with this name.
pub async fn save(pool: &PgPool, profile: &ConnectionProfile) -> Result<(), ProfileError> {
    profile.validate()?;
    sqlx::query(
        "INSERT INTO connection_profiles \
         (name, host, port, client_id, account, read_only, allow_remote, auto_client_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (name) DO UPDATE SET host = $2, port = $3, client_id = $4, account = $5, \
         read_only = $6, allow_remote = $7, auto_client_id = $8, updated_at = now()",
    )
    .bind(&profile.name)
    .bind(&profile.host)
    .bind(profile.port)
    .bind(profile.client_id)
    .bind(&profile.account)
    .bind(profile.read_only)
    .bind(profile.allow_remote)
    .bind(profile.auto_client_id)
    .execute(pool)
    .await
    .map_err(StoreError::from)?;
    Ok(())
}

const COLUMNS: &str =
    "name, host, port, client_id, account, read_only, allow_remote, auto_client_id";

pub async fn get(pool: &PgPool, name: &str) -> Result<Option<ConnectionProfile>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM connection_profiles WHERE name = $1"
    ))
    .bind(name)
    .fetch_optional(pool)
    .await?)
}

pub async fn list(pool: &PgPool) -> Result<Vec<ConnectionProfile>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM connection_profiles ORDER BY name"
    ))
    .fetch_all(pool)
    .await?)
}

pub async fn delete(pool: &PgPool, name: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM connection_profiles WHERE name = $1")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.5.0.1"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["10.0.0.5", "tws.example.com", "0.0.0.0"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn save_get_replace_list_delete(pool: PgPool) {
        let mut profile = ConnectionProfile::local_paper("paper");
        save(&pool, &profile).await.unwrap();
        assert_eq!(get(&pool, "paper").await.unwrap(), Some(profile.clone()));
        profile.port = 4002;
        profile.read_only = false;
        save(&pool, &profile).await.unwrap();
        assert_eq!(list(&pool).await.unwrap(), vec![profile]);
        assert!(delete(&pool, "paper").await.unwrap());
        assert!(!delete(&pool, "paper").await.unwrap());
        assert_eq!(get(&pool, "paper").await.unwrap(), None);
    }

    #[sqlx::test(migrations = "../../migrations")]
    async fn remote_host_needs_opt_in(pool: PgPool) {
        let mut profile = ConnectionProfile {
            host: "10.1.2.3".into(),
            ..ConnectionProfile::local_paper("gw")
        };
        let err = save(&pool, &profile).await.unwrap_err();
        assert!(err.to_string().contains("--allow-remote"), "{err}");
        assert!(list(&pool).await.unwrap().is_empty());
        profile.allow_remote = true;
        save(&pool, &profile).await.unwrap();
        assert_eq!(get(&pool, "gw").await.unwrap().unwrap().host, "10.1.2.3");
    }
}

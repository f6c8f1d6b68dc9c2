//! Secrets live only in the OS keyring (Secret Service on GNOME), never in files or the database.
//!
//! There is deliberately no plaintext fallback: when no keyring is reachable the caller gets
//! [`SecretError::Unreachable`] and must tell the user, rather than the secret landing on disk.

/// Keyring service name under which every Tickwork secret is stored.
pub const SERVICE: &str = "tickwork";

/// The secrets Tickwork knows about; the names are what `tickwork secret set NAME` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretName {
    /// Password of the shared PostgreSQL server named by `database.url`.
    DatabasePassword,
}

impl SecretName {
    pub const ALL: [SecretName; 1] = [SecretName::DatabasePassword];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretName::DatabasePassword => "database-password",
        }
    }
}

impl std::str::FromStr for SecretName {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|name| name.as_str() == s)
            .ok_or_else(|| SecretError::UnknownName(s.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "cannot reach the OS keyring (Secret Service over D-Bus): {0}; start gnome-keyring or \
         another Secret Service provider in this session"
    )]
    Unreachable(String),
    #[error("the OS keyring refused the operation on `{name}`: {message}")]
    Refused { name: &'static str, message: String },
    #[error("unknown secret `{0}`; known: database-password")]
    UnknownName(String),
}

/// Access to Tickwork's entries in the user's keyring.
#[derive(Debug, Clone)]
pub struct SecretStore {
    service: String,
}

impl Default for SecretStore {
    fn default() -> Self {
        Self::new(SERVICE)
    }
}

impl SecretStore {
    /// A store under another service name, so tests never touch the user's real entries.
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// The stored secret, or `None` if it was never set.
    pub fn get(&self, name: SecretName) -> Result<Option<String>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(map_error(name, err)),
        }
    }

    pub fn set(&self, name: SecretName, secret: &str) -> Result<(), SecretError> {
        self.entry(name)?
            .set_password(secret)
            .map_err(|err| map_error(name, err))
    }

    /// Removes the secret; `false` when there was none.
    pub fn delete(&self, name: SecretName) -> Result<bool, SecretError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(err) => Err(map_error(name, err)),
        }
    }

    fn entry(&self, name: SecretName) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, name.as_str()).map_err(|err| map_error(name, err))
    }
}

fn map_error(name: SecretName, err: keyring::Error) -> SecretError {
    let message = err
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match err {
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            SecretError::Unreachable(message)
        }
        _ => SecretError::Refused {
            name: name.as_str(),
            message,
        },
    }
}

//! The real OS keyring (Secret Service). The test command runs the suite inside
//! `dbus-run-session` with an unlocked gnome-keyring; without one these tests fail, they do
//! not pretend to pass.

use tickwork_core::secrets::{SecretError, SecretName, SecretStore};

fn store() -> SecretStore {
    SecretStore::new(format!("tickwork-test-{}", std::process::id()))
}

#[test]
fn set_get_replace_delete_round_trip() {
    let store = store();
    let name = SecretName::DatabasePassword;
    assert_eq!(store.get(name).unwrap(), None);
    store.set(name, "s3cret with spaces & ünïcode").unwrap();
    assert_eq!(
        store.get(name).unwrap().as_deref(),
        Some("s3cret with spaces & ünïcode")
    );
    store.set(name, "rotated").unwrap();
    assert_eq!(store.get(name).unwrap().as_deref(), Some("rotated"));
    assert!(store.delete(name).unwrap());
    assert!(!store.delete(name).unwrap());
    assert_eq!(store.get(name).unwrap(), None);
}

#[test]
fn unknown_secret_name_is_refused() {
    let err = "api-token".parse::<SecretName>().unwrap_err();
    assert!(matches!(err, SecretError::UnknownName(_)));
    assert!(err.to_string().contains("database-password"));
}

//! The default [`TokenStore`]: the OS keyring (Secret Service on Linux and the BSDs, Keychain
//! on macOS, Credential Manager on Windows) through the `keyring` crate.
//!
//! Each profile has its own service name (`mcp-rmm:<profile>`); the items are the accounts
//! `token`, `password` and `subscription-key`. When no keyring can be reached the error says
//! so and how to choose the file store: nothing falls back silently.

use secrecy::{ExposeSecret, SecretString};

use crate::store::{SecretKind, StoreError, StoredToken, TokenStore};
use crate::token::AccessToken;

const TOKEN_ITEM: &str = "token";

/// The OS keyring, for one profile.
#[derive(Clone, Debug)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// The keyring items of `profile`.
    pub fn new(profile: &str) -> Self {
        Self {
            service: format!("mcp-rmm:{profile}"),
        }
    }

    /// Checks that a keyring can be reached, without touching any item.
    pub fn check_available() -> Result<(), StoreError> {
        match keyring::Entry::store_status() {
            Ok(()) => Ok(()),
            Err(e) => Err(StoreError::NoKeyring {
                detail: describe_error(e),
            }),
        }
    }

    fn entry(&self, item: &'static str) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(&self.service, item).map_err(|e| map_error(&e, "open", item))
    }

    fn read(&self, item: &'static str) -> Result<Option<String>, StoreError> {
        match self.entry(item)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(keyring::Error::BadEncoding(_)) => Err(StoreError::Damaged {
                item,
                location: self.describe(),
            }),
            Err(e) => Err(map_error(&e, "read", item)),
        }
    }

    fn write(&self, item: &'static str, value: &str) -> Result<(), StoreError> {
        self.entry(item)?
            .set_password(value)
            .map_err(|e| map_error(&e, "save", item))
    }

    fn delete(&self, item: &'static str) -> Result<(), StoreError> {
        match self.entry(item)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(&e, "delete", item)),
        }
    }
}

impl TokenStore for KeyringStore {
    fn describe(&self) -> String {
        format!("OS keyring (service \"{}\")", self.service)
    }

    fn load_token(&self) -> Result<Option<AccessToken>, StoreError> {
        let Some(text) = self.read(TOKEN_ITEM)? else {
            return Ok(None);
        };
        let damaged = || StoreError::Damaged {
            item: TOKEN_ITEM,
            location: self.describe(),
        };
        let stored: StoredToken = serde_json::from_str(&text).map_err(|_| damaged())?;
        stored.into_token().map(Some).ok_or_else(damaged)
    }

    fn save_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        let text =
            serde_json::to_string(&StoredToken::of(token)).map_err(|_| StoreError::Damaged {
                item: TOKEN_ITEM,
                location: "memory".to_owned(),
            })?;
        self.write(TOKEN_ITEM, &text)
    }

    fn delete_token(&self) -> Result<(), StoreError> {
        self.delete(TOKEN_ITEM)
    }

    fn load_secret(&self, kind: SecretKind) -> Result<Option<SecretString>, StoreError> {
        Ok(self.read(kind.name())?.map(SecretString::from))
    }

    fn save_secret(&self, kind: SecretKind, value: &SecretString) -> Result<(), StoreError> {
        self.write(kind.name(), value.expose_secret())
    }

    fn delete_secret(&self, kind: SecretKind) -> Result<(), StoreError> {
        self.delete(kind.name())
    }
}

/// The keyring error as text that holds no secret: the variants that carry data read back
/// from the store (`BadEncoding`, `BadDataFormat`) are described, never printed.
fn describe_error(e: &keyring::Error) -> String {
    use keyring::Error as E;
    match e {
        E::PlatformFailure(p) => format!("platform failure: {p}"),
        E::NoStorageAccess(p) => format!("no storage access: {p}"),
        E::NoDefaultStore => "no credential store could be started".to_owned(),
        E::NoEntry => "no such item".to_owned(),
        E::BadEncoding(_) => "the stored value is not UTF-8".to_owned(),
        E::BadDataFormat(_, _) => "the stored value has an unexpected format".to_owned(),
        E::BadStoreFormat(s) => format!("the store is damaged: {s}"),
        E::TooLong(attr, limit) => format!("{attr} is longer than the store's limit of {limit}"),
        E::Invalid(attr, why) => format!("{attr} is invalid: {why}"),
        E::Ambiguous(_) => "more than one item matches".to_owned(),
        E::NotSupportedByStore(s) => format!("not supported by the store: {s}"),
        _ => "unknown keyring error".to_owned(),
    }
}

fn map_error(e: &keyring::Error, action: &'static str, item: &'static str) -> StoreError {
    use keyring::Error as E;
    match e {
        // No bus, no service, or a locked keyring that wants a prompt nobody can answer:
        // all mean "no usable keyring here".
        E::NoDefaultStore | E::PlatformFailure(_) | E::NoStorageAccess(_) => {
            StoreError::NoKeyring {
                detail: describe_error(e),
            }
        }
        _ => StoreError::Keyring {
            action,
            item,
            detail: describe_error(e),
        },
    }
}

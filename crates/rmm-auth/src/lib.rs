//! Tokens for the Sharp RMM API: what a captured JWT says and whether to trust it, where it
//! is kept (the OS keyring, or a plain file only when the user asks for one), the token
//! manager that hands every caller a valid token and refreshes once for all of them, and the
//! headless capture that signs in with Chromium.

mod file_store;
mod keyring_store;
mod store;
mod token;
mod validate;

pub use token::{AccessToken, TokenClaims, TokenOrigin};
pub use validate::{TokenRejected, TokenValidator, ValidationRules};
pub use file_store::FileStore;
pub use keyring_store::KeyringStore;
pub use store::{SecretKind, StoreError, TokenStore};

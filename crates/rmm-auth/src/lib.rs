//! Tokens for the Sharp RMM API: what a captured JWT says and whether to trust it, where it
//! is kept (the OS keyring, or a plain file only when the user asks for one), the token
//! manager that hands every caller a valid token and refreshes once for all of them, and the
//! headless capture that signs in with Chromium.

mod chromium;
mod file_store;
mod headless;
mod keyring_store;
mod login;
mod manager;
mod origins;
pub mod private_fs;
mod store;
mod token;
mod validate;

pub use chromium::{BrowserMode, find_chromium, forget_browser_session};
pub use file_store::FileStore;
pub use headless::{HeadlessLogin, LoginConfig, LoginFigures, Selectors, Timeouts};
pub use keyring_store::KeyringStore;
pub use login::{Login, LoginError};
pub use manager::TokenManager;
pub use origins::{
    OriginError, SecretOrigins, check_origins, load_origins, origin_of, rebind_origins,
    save_origins,
};
pub use store::{SecretKind, StoreError, TokenStore};
pub use token::{AccessToken, TokenClaims, TokenOrigin};
pub use validate::{LearnedIssuer, TokenRejected, TokenValidator, ValidationRules};

mod log_filter;

pub use log_filter::{SECRET_SAFE_LOG_DIRECTIVES, secret_safe_filter};

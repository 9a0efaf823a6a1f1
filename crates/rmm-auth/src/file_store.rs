//! The plain-file [`TokenStore`], used only when the user chose it explicitly (`--token-file`,
//! the `token_file` setting, or the old `TOKEN_FILE` variable). The file is JSON, readable and
//! writable by its owner only (0600 on Unix; on Windows it inherits the user profile's ACL),
//! replaced atomically, and every use says where the secrets are.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::store::{SecretKind, StoreError, StoredToken, TokenStore};
use crate::token::AccessToken;

/// A plain JSON file holding one profile's token and secrets.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

#[derive(Default, Serialize, Deserialize)]
struct FileContents {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<StoredToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subscription_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mcp_endpoint_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origins: Option<String>,
}

impl FileContents {
    fn secret_mut(&mut self, kind: SecretKind) -> &mut Option<String> {
        match kind {
            SecretKind::Password => &mut self.password,
            SecretKind::SubscriptionKey => &mut self.subscription_key,
            SecretKind::McpEndpointSecret => &mut self.mcp_endpoint_secret,
            SecretKind::Origins => &mut self.origins,
        }
    }
}

impl FileStore {
    /// The file store at `path`. Says (in the log) that secrets go to a plain file.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        tracing::warn!(
            path = %path.display(),
            "secrets are kept in a plain file (owner-only), as chosen; the OS keyring is not used"
        );
        Self { path }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<FileContents, StoreError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(FileContents::default());
            }
            Err(source) => {
                return Err(StoreError::File {
                    action: "read",
                    path: self.path.display().to_string(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|_| StoreError::Damaged {
            item: "token file",
            location: self.describe(),
        })
    }

    fn write(&self, contents: &FileContents) -> Result<(), StoreError> {
        let fail = |source| StoreError::File {
            action: "write",
            path: self.path.display().to_string(),
            source,
        };
        let text = serde_json::to_vec_pretty(contents)
            .map_err(|e| fail(std::io::Error::other(e.to_string())))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(fail)?;
        }
        // Written beside the target and renamed over it, so a crash never leaves half a file.
        let tmp = self.path.with_extension("tmp");
        let mut f = open_private(&tmp).map_err(fail)?;
        f.write_all(&text).map_err(fail)?;
        f.sync_all().map_err(fail)?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(fail)?;
        tracing::warn!(path = %self.path.display(), "secrets written to a plain file (owner-only)");
        Ok(())
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies only when the file is created; an older file is narrowed too.
    f.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(f)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

impl TokenStore for FileStore {
    fn describe(&self) -> String {
        format!(
            "plain file {} (owner-only; chosen instead of the OS keyring)",
            self.path.display()
        )
    }

    fn load_token(&self) -> Result<Option<AccessToken>, StoreError> {
        match self.read()?.token {
            None => Ok(None),
            Some(stored) => stored
                .into_token()
                .map(Some)
                .ok_or_else(|| StoreError::Damaged {
                    item: "token",
                    location: self.describe(),
                }),
        }
    }

    fn save_token(&self, token: &AccessToken) -> Result<(), StoreError> {
        let mut c = self.read()?;
        c.token = Some(StoredToken::of(token));
        self.write(&c)
    }

    fn delete_token(&self) -> Result<(), StoreError> {
        let mut c = self.read()?;
        if c.token.take().is_some() {
            self.write(&c)?;
        }
        Ok(())
    }

    fn load_secret(&self, kind: SecretKind) -> Result<Option<SecretString>, StoreError> {
        Ok(self.read()?.secret_mut(kind).take().map(SecretString::from))
    }

    fn save_secret(&self, kind: SecretKind, value: &SecretString) -> Result<(), StoreError> {
        let mut c = self.read()?;
        *c.secret_mut(kind) = Some(value.expose_secret().to_owned());
        self.write(&c)
    }

    fn delete_secret(&self, kind: SecretKind) -> Result<(), StoreError> {
        let mut c = self.read()?;
        if c.secret_mut(kind).take().is_some() {
            self.write(&c)?;
        }
        Ok(())
    }
}

//! The origins a profile's secrets belong to: the API (where the token and the subscription
//! key may go), the login page, the identity provider (where the password may be typed) and
//! the token issuer. They are saved in the profile's token store together with the secrets,
//! so that whatever can change the settings, the environment or a `.env` cannot send the
//! secrets anywhere else: [`check_origins`] refuses a profile whose addresses differ from those
//! the secrets were saved for.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::store::{SecretKind, StoreError, TokenStore};
use secrecy::ExposeSecret;

/// Where a profile's secrets may go, each as `scheme://host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretOrigins {
    /// The API's origin: the only place the token and the subscription key are sent.
    pub api: String,
    /// The login page's origin: the only place a login starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    /// The identity provider's origin: the only place the password is typed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// The token issuer (`iss`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// A URL's origin as compared here.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

impl SecretOrigins {
    /// The origins of a profile's addresses.
    pub fn new(api: &Url, login: Option<&Url>, idp: Option<&Url>, issuer: Option<&str>) -> Self {
        Self {
            api: origin_of(api),
            login: login.map(origin_of),
            idp: idp.map(origin_of),
            issuer: issuer.map(|i| i.trim().to_owned()),
        }
    }

    /// What differs between the saved origins (`self`) and a profile's (`now`), one entry per
    /// origin. An origin the profile does not set is no difference (it sends nothing there).
    pub fn differences(&self, now: &SecretOrigins) -> Vec<String> {
        let mut out = Vec::new();
        if self.api != now.api {
            out.push(format!(
                "the API is {} but the secrets were saved for {}",
                now.api, self.api
            ));
        }
        for (what, saved, given) in [
            ("the login page", &self.login, &now.login),
            ("the identity provider", &self.idp, &now.idp),
            ("the token issuer", &self.issuer, &now.issuer),
        ] {
            if let (Some(saved), Some(given)) = (saved, given)
                && saved != given
            {
                out.push(format!(
                    "{what} is {given} but the secrets were saved for {saved}"
                ));
            }
        }
        out
    }

    /// These origins, with what `self` does not know taken from `other`.
    fn completed_by(&self, other: &SecretOrigins) -> SecretOrigins {
        SecretOrigins {
            api: self.api.clone(),
            login: self.login.clone().or_else(|| other.login.clone()),
            idp: self.idp.clone().or_else(|| other.idp.clone()),
            issuer: self.issuer.clone().or_else(|| other.issuer.clone()),
        }
    }
}

/// The profile's addresses differ from those its secrets were saved for.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    /// The addresses changed without the explicit act that moves a profile.
    #[error(
        "the secrets of this profile were saved for other addresses, so they are not used: {}. \
         A profile's addresses change only on purpose (the app's Settings, `rmm login` with \
         --login-url/--api-base-url, or `rmm sim --profile`), which forgets the token",
        .differences.join("; ")
    )]
    Mismatch {
        /// Each differing origin.
        differences: Vec<String>,
    },
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The origins saved in `store`, if any.
pub fn load_origins(store: &dyn TokenStore) -> Result<Option<SecretOrigins>, StoreError> {
    let Some(text) = store.load_secret(SecretKind::Origins)? else {
        return Ok(None);
    };
    serde_json::from_str(text.expose_secret())
        .map(Some)
        .map_err(|_| StoreError::Damaged {
            item: SecretKind::Origins.name(),
            location: store.describe(),
        })
}

/// Saves `origins` as those of the secrets in `store`.
pub fn save_origins(store: &dyn TokenStore, origins: &SecretOrigins) -> Result<(), StoreError> {
    let text = serde_json::to_string(origins).map_err(|_| StoreError::Damaged {
        item: SecretKind::Origins.name(),
        location: "memory".to_owned(),
    })?;
    store.save_secret(SecretKind::Origins, &SecretString::from(text))
}

/// Checks that the profile's origins `now` are those the secrets in `store` were saved for.
/// Secrets saved before origins were kept (none recorded) are bound to `now` here; an origin
/// the saved record does not know yet (the identity provider, once discovered) is added.
pub fn check_origins(store: &dyn TokenStore, now: &SecretOrigins) -> Result<(), OriginError> {
    match load_origins(store)? {
        None => {
            save_origins(store, now)?;
            Ok(())
        }
        Some(saved) => {
            let differences = saved.differences(now);
            if !differences.is_empty() {
                return Err(OriginError::Mismatch { differences });
            }
            let completed = saved.completed_by(now);
            if completed != saved {
                save_origins(store, &completed)?;
            }
            Ok(())
        }
    }
}

/// Moves the profile's secrets to `now` on purpose: the token (captured for the old
/// addresses) is forgotten, and `now` becomes the saved origins. Returns whether anything
/// changed.
pub fn rebind_origins(store: &dyn TokenStore, now: &SecretOrigins) -> Result<bool, StoreError> {
    let saved = load_origins(store)?;
    if saved.as_ref() == Some(now) {
        return Ok(false);
    }
    if saved.is_some_and(|s| !s.differences(now).is_empty()) {
        store.delete_token()?;
    }
    save_origins(store, now)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn differences_name_each_origin_and_ignore_paths() {
        let saved = SecretOrigins::new(
            &url("https://api.example/rmm/"),
            Some(&url("https://login.example/authorize")),
            None,
            Some("https://login.example/"),
        );
        let same = SecretOrigins::new(
            &url("https://api.example/other"),
            Some(&url("https://login.example/login?x=1")),
            Some(&url("https://idp.example/")),
            None,
        );
        assert!(saved.differences(&same).is_empty());
        let evil = SecretOrigins::new(
            &url("http://127.0.0.1:9/"),
            Some(&url("http://127.0.0.1:9/login")),
            None,
            None,
        );
        let d = saved.differences(&evil);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("http://127.0.0.1:9") && d[0].contains("https://api.example"));
        assert!(d[1].contains("login page"));
    }
}

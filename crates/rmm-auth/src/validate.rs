//! Checking a captured JWT before anything trusts or stores it: structure, expiry and
//! not-before (with a small clock skew), issuer and audience when configured, and the RS/ES
//! signature against the issuer's JWKS (cached, fetched again when a token names an unknown
//! key id).

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::SecretString;
use tokio::sync::{Mutex, RwLock};
use url::Url;

use crate::token::{AccessToken, TokenClaims, TokenOrigin};

/// Why a token was refused. No variant carries the token itself.
#[derive(Debug, thiserror::Error)]
pub enum TokenRejected {
    /// Not three base64url parts holding a JSON header and claims.
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(&'static str),
    /// `exp` lies in the past (beyond the allowed clock skew).
    #[error("the token expired at {expired_at} (Unix seconds)")]
    Expired {
        /// `exp` of the token.
        expired_at: u64,
    },
    /// `nbf` lies in the future (beyond the allowed clock skew).
    #[error("the token is not valid before {not_before} (Unix seconds)")]
    NotYetValid {
        /// `nbf` of the token.
        not_before: u64,
    },
    /// `aud` does not name the configured audience.
    #[error("the token's audience {found:?} is not the configured audience {expected:?}")]
    WrongAudience {
        /// The configured audience.
        expected: String,
        /// What the token says.
        found: Vec<String>,
    },
    /// `iss` is not the configured issuer.
    #[error("the token's issuer {found:?} is not the configured issuer {expected:?}")]
    WrongIssuer {
        /// The configured issuer.
        expected: String,
        /// What the token says.
        found: Option<String>,
    },
    /// A claim every access token must have is absent.
    #[error("the token lacks the required claim `{0}`")]
    MissingClaim(String),
    /// The signature does not match the issuer's key.
    #[error("the token's signature does not match the issuer's key")]
    BadSignature,
    /// The header has no `kid`, so no key of the JWKS can be chosen.
    #[error("the token's header has no key id (`kid`)")]
    MissingKeyId,
    /// The JWKS has no key with the token's `kid`, even after fetching it again.
    #[error("the issuer's JWKS has no key with id {kid:?}")]
    UnknownKeyId {
        /// The token's `kid`.
        kid: String,
    },
    /// The token uses an algorithm this tool does not accept (symmetric ones included).
    #[error(
        "the token's algorithm {0} is not accepted (only RS256/384/512, PS256/384/512, ES256/384)"
    )]
    UnsupportedAlgorithm(String),
    /// Neither a JWKS URL nor an issuer is configured, so the signature cannot be checked.
    #[error("cannot check the signature: the profile sets neither `jwks_url` nor `issuer`")]
    NoKeySource,
    /// The JWKS could not be fetched or read.
    #[error("cannot fetch the issuer's keys from {url}: {detail}")]
    Jwks {
        /// Where the keys were fetched from.
        url: String,
        /// What went wrong.
        detail: String,
    },
}

/// What a token must satisfy.
#[derive(Clone, Debug)]
pub struct ValidationRules {
    /// Expected `iss`; not checked when `None`.
    pub issuer: Option<String>,
    /// Expected `aud`; not checked when `None`.
    pub audience: Option<String>,
    /// Where the issuer publishes its keys; `{issuer}.well-known/jwks.json` when `None`.
    pub jwks_url: Option<Url>,
    /// Allowed clock difference between this machine and the issuer.
    pub clock_skew: Duration,
    /// `issuer` is a guess (the login page's origin; nobody set one): a token of another
    /// issuer is checked against that issuer's own discovery document instead (its `issuer`
    /// must be the token's, its `jwks_uri` on the issuer's origin), and the caller pins what
    /// was learned ([`TokenValidator::learned_issuer`]). A custom Auth0 domain then works.
    pub issuer_guessed: bool,
    /// The hosts a learned issuer must sit beside (the login page's and the dashboard's): a
    /// token's own issuer is looked up only when its host is one of them or a sibling under
    /// the same parent domain (`auth.example.com` beside `login.example.com`), or both are
    /// loopback. A page handing over a token of an issuer of its own choosing is refused.
    pub issuer_hosts: Vec<String>,
}

/// An issuer learned from its discovery document at a sign-in, for the profile to pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedIssuer {
    pub issuer: String,
    pub jwks_url: Url,
}

impl Default for ValidationRules {
    fn default() -> Self {
        Self {
            issuer: None,
            issuer_guessed: false,
            issuer_hosts: Vec::new(),
            audience: None,
            jwks_url: None,
            clock_skew: Duration::from_secs(30),
        }
    }
}

impl ValidationRules {
    fn key_source(&self) -> Result<Url, TokenRejected> {
        if let Some(url) = &self.jwks_url {
            return Ok(url.clone());
        }
        let issuer = self.issuer.as_deref().ok_or(TokenRejected::NoKeySource)?;
        let base = if issuer.ends_with('/') {
            issuer.to_owned()
        } else {
            format!("{issuer}/")
        };
        Url::parse(&base)
            .and_then(|u| u.join(".well-known/jwks.json"))
            .map_err(|e| TokenRejected::Jwks {
                url: base.clone(),
                detail: format!("the issuer is not a URL ({e})"),
            })
    }
}

/// Checks tokens against [`ValidationRules`], keeping the issuer's keys between calls.
pub struct TokenValidator {
    rules: ValidationRules,
    http: reqwest::Client,
    keys: RwLock<HashMap<String, (Algorithm, DecodingKey)>>,
    /// Only one JWKS fetch at a time; callers that waited re-read the cache first.
    fetching: Mutex<u64>,
    /// The issuer learned from a token when `issuer_guessed`, and a validator for it.
    learned: Mutex<Option<(LearnedIssuer, std::sync::Arc<TokenValidator>)>>,
}

impl TokenValidator {
    /// A validator with its own HTTP client.
    pub fn new(rules: ValidationRules) -> Self {
        Self {
            rules,
            http: reqwest::Client::new(),
            keys: RwLock::new(HashMap::new()),
            fetching: Mutex::new(0),
            learned: Mutex::new(None),
        }
    }

    /// The issuer learned from a token's discovery document, when the rules' issuer was a
    /// guess that the token did not match (see [`ValidationRules::issuer_guessed`]).
    pub async fn learned_issuer(&self) -> Option<LearnedIssuer> {
        self.learned.lock().await.as_ref().map(|(l, _)| l.clone())
    }

    /// A validator for the token's own issuer, from its discovery document: when the rules'
    /// issuer is a guess the token does not match, and no key source was set.
    async fn for_token_issuer(
        &self,
        iss: &str,
    ) -> Result<Option<std::sync::Arc<TokenValidator>>, TokenRejected> {
        let guess = self.rules.issuer.as_deref();
        if !self.rules.issuer_guessed
            || self.rules.jwks_url.is_some()
            || guess.is_none_or(|g| g == iss)
        {
            return Ok(None);
        }
        let mut learned = self.learned.lock().await;
        if let Some((l, v)) = learned.as_ref()
            && l.issuer == iss
        {
            return Ok(Some(v.clone()));
        }
        let found = self.discover(iss).await?;
        let validator = std::sync::Arc::new(TokenValidator::new(ValidationRules {
            issuer: Some(found.issuer.clone()),
            jwks_url: Some(found.jwks_url.clone()),
            issuer_guessed: false,
            ..self.rules.clone()
        }));
        tracing::info!(issuer = %found.issuer, "the token's issuer is not the login page's origin: using its discovery document");
        *learned = Some((found, validator.clone()));
        Ok(Some(validator))
    }

    /// `{iss}.well-known/openid-configuration`: its `issuer` must be `iss`, and its
    /// `jwks_uri` on the issuer's origin; `iss` must be https (or http on loopback).
    async fn discover(&self, iss: &str) -> Result<LearnedIssuer, TokenRejected> {
        let wrong = |detail: String| TokenRejected::Jwks {
            url: iss.to_owned(),
            detail,
        };
        let issuer_url =
            Url::parse(iss).map_err(|_| wrong("the token's issuer is not a URL".to_owned()))?;
        let loopback = issuer_url.host().is_some_and(|h| match h {
            url::Host::Ipv4(ip) => ip.is_loopback(),
            url::Host::Ipv6(ip) => ip.is_loopback(),
            url::Host::Domain(d) => d == "localhost",
        });
        if issuer_url.scheme() != "https" && !(issuer_url.scheme() == "http" && loopback) {
            return Err(wrong(
                "the token's issuer is not an https address".to_owned(),
            ));
        }
        let host = issuer_url.host_str().unwrap_or_default();
        if !self
            .rules
            .issuer_hosts
            .iter()
            .any(|known| beside(host, known))
        {
            return Err(wrong(format!(
                "the token's issuer is not beside the profile's login page or dashboard ({}); set `issuer` in the profile if it is yours",
                self.rules.issuer_hosts.join(", ")
            )));
        }
        let base = if iss.ends_with('/') {
            iss.to_owned()
        } else {
            format!("{iss}/")
        };
        let doc_url = Url::parse(&base)
            .and_then(|u| u.join(".well-known/openid-configuration"))
            .map_err(|e| wrong(format!("no discovery address ({e})")))?;
        let doc: serde_json::Value = self
            .http
            .get(doc_url.clone())
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| wrong(format!("its discovery document: {}", e.without_url())))?
            .json()
            .await
            .map_err(|_| wrong("its discovery document is not JSON".to_owned()))?;
        if doc["issuer"].as_str() != Some(iss) {
            return Err(wrong(
                "its discovery document names another issuer".to_owned(),
            ));
        }
        let jwks_url = doc["jwks_uri"]
            .as_str()
            .and_then(|u| Url::parse(u).ok())
            .filter(|u| u.origin() == issuer_url.origin())
            .ok_or_else(|| {
                wrong("its discovery document has no jwks_uri on the issuer's origin".to_owned())
            })?;
        Ok(LearnedIssuer {
            issuer: iss.to_owned(),
            jwks_url,
        })
    }

    /// The rules this validator applies.
    pub fn rules(&self) -> &ValidationRules {
        &self.rules
    }

    /// How many times the JWKS was fetched (for tests and diagnostics).
    pub async fn jwks_fetches(&self) -> u64 {
        *self.fetching.lock().await
    }

    /// Checks `jwt` and, when it passes every check, returns it as an [`AccessToken`].
    pub async fn validate(
        &self,
        jwt: &str,
        origin: TokenOrigin,
    ) -> Result<AccessToken, TokenRejected> {
        let jwt = jwt.trim();
        if jwt.split('.').count() != 3 {
            return Err(TokenRejected::Malformed(
                "it does not have three dot-separated parts",
            ));
        }
        let header = jsonwebtoken::decode_header(jwt)
            .map_err(|_| TokenRejected::Malformed("its header is not base64url-encoded JSON"))?;
        // Reading the claims before the signature lets a broken token be called broken
        // rather than "badly signed".
        let claims = read_claims_unverified(jwt)?;
        if let Some(iss) = claims.iss.as_deref()
            && let Some(own) = self.for_token_issuer(iss).await?
        {
            return Box::pin(own.validate(jwt, origin)).await;
        }
        if !is_asymmetric(header.alg) {
            return Err(TokenRejected::UnsupportedAlgorithm(format!(
                "{:?}",
                header.alg
            )));
        }
        let kid = header.kid.ok_or(TokenRejected::MissingKeyId)?;
        let (key_alg, key) = self.key_for(&kid).await?;
        if !same_family(key_alg, header.alg) {
            return Err(TokenRejected::BadSignature);
        }

        let mut v = Validation::new(header.alg);
        v.leeway = self.rules.clock_skew.as_secs();
        v.validate_nbf = true;
        v.set_required_spec_claims(&["exp"]);
        match &self.rules.audience {
            Some(aud) => v.set_audience(&[aud]),
            None => v.validate_aud = false,
        }
        if let Some(iss) = &self.rules.issuer {
            v.set_issuer(&[iss]);
        }
        match jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &v) {
            Ok(_) => Ok(AccessToken::new(
                SecretString::from(jwt.to_owned()),
                claims,
                origin,
            )),
            Err(e) => Err(self.explain(e.kind(), &claims)),
        }
    }

    fn explain(&self, kind: &ErrorKind, claims: &TokenClaims) -> TokenRejected {
        match kind {
            ErrorKind::ExpiredSignature => TokenRejected::Expired {
                expired_at: claims.exp,
            },
            ErrorKind::ImmatureSignature => TokenRejected::NotYetValid {
                not_before: claims.nbf.unwrap_or_default(),
            },
            ErrorKind::InvalidAudience => TokenRejected::WrongAudience {
                expected: self.rules.audience.clone().unwrap_or_default(),
                found: claims.audiences(),
            },
            ErrorKind::InvalidIssuer => TokenRejected::WrongIssuer {
                expected: self.rules.issuer.clone().unwrap_or_default(),
                found: claims.iss.clone(),
            },
            ErrorKind::MissingRequiredClaim(c) => TokenRejected::MissingClaim(c.clone()),
            ErrorKind::InvalidSignature
            | ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidKeyFormat => TokenRejected::BadSignature,
            ErrorKind::Base64(_) => TokenRejected::Malformed("a part is not base64url"),
            ErrorKind::Json(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidClaimFormat(_) => {
                TokenRejected::Malformed("its claims are not the expected JSON")
            }
            _ => TokenRejected::Malformed("it could not be decoded"),
        }
    }

    async fn key_for(&self, kid: &str) -> Result<(Algorithm, DecodingKey), TokenRejected> {
        if let Some(k) = self.keys.read().await.get(kid) {
            return Ok(k.clone());
        }
        let mut fetches = self.fetching.lock().await;
        // Another caller may have fetched while this one waited for the lock.
        if let Some(k) = self.keys.read().await.get(kid) {
            return Ok(k.clone());
        }
        let fresh = self.fetch_jwks().await?;
        *fetches += 1;
        let found = fresh.get(kid).cloned();
        *self.keys.write().await = fresh;
        found.ok_or_else(|| TokenRejected::UnknownKeyId {
            kid: kid.to_owned(),
        })
    }

    async fn fetch_jwks(&self) -> Result<HashMap<String, (Algorithm, DecodingKey)>, TokenRejected> {
        let url = self.rules.key_source()?;
        let fail = |detail: String| TokenRejected::Jwks {
            url: url.to_string(),
            detail,
        };
        tracing::debug!(%url, "fetching the issuer's JWKS");
        let resp = self
            .http
            .get(url.clone())
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .map_err(|e| fail(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        let set: JwkSet = resp
            .json()
            .await
            .map_err(|_| fail("the answer is not a JWKS document".to_owned()))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            // Symmetric ("oct") keys are never accepted: a public JWKS holding one would let
            // anyone who read it sign tokens.
            let alg = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => continue,
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid, (alg, key));
            }
        }
        Ok(keys)
    }
}

/// Whether `host` is `known`, or a sibling of it under the same parent domain, or both are
/// loopback. The parent must be an organisation's domain, not a public suffix: two labels at
/// least, and not a country's second level (`co.jp`, `com.au`), so `evil.co.jp` is not beside
/// `sharp.co.jp`.
fn beside(host: &str, known: &str) -> bool {
    let loopback = |h: &str| {
        h == "localhost"
            || h.trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    if host.eq_ignore_ascii_case(known) || (loopback(host) && loopback(known)) {
        return true;
    }
    let parent = |h: &str| {
        h.split_once('.')
            .map(|(_, rest)| rest.to_ascii_lowercase())
            .filter(|rest| rest.contains('.'))
    };
    match (parent(host), parent(known)) {
        (Some(a), Some(b)) => {
            const SECOND_LEVELS: [&str; 10] = [
                "ac", "co", "com", "edu", "go", "gov", "ne", "net", "or", "org",
            ];
            let labels: Vec<&str> = a.split('.').collect();
            a == b
                && !(labels.len() == 2
                    && labels[1].len() == 2
                    && SECOND_LEVELS.contains(&labels[0]))
        }
        _ => false,
    }
}

fn is_asymmetric(alg: Algorithm) -> bool {
    matches!(
        alg,
        Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384
    )
}

fn same_family(key: Algorithm, token: Algorithm) -> bool {
    let rsa = |a| {
        matches!(
            a,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        )
    };
    let ec = |a| matches!(a, Algorithm::ES256 | Algorithm::ES384);
    (rsa(key) && rsa(token)) || (ec(key) && ec(token))
}

/// The claims of `jwt` without checking its signature: for reading back a token this tool
/// validated before storing it, and for explaining why a token was refused.
pub(crate) fn read_claims_unverified(jwt: &str) -> Result<TokenClaims, TokenRejected> {
    jsonwebtoken::dangerous::insecure_decode::<TokenClaims>(jwt)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                TokenRejected::Malformed("its claims are not JSON with a numeric `exp`")
            }
            _ => TokenRejected::Malformed("its claims are not base64url-encoded JSON"),
        })
}

#[cfg(test)]
mod tests {
    use super::beside;

    #[test]
    fn a_learned_issuer_must_sit_beside_a_known_host() {
        assert!(beside("login.example.com", "login.example.com"));
        assert!(beside("auth.example.com", "dashboard.example.com"));
        assert!(beside("auth.sharp.co.jp", "login.sharp.co.jp"));
        assert!(beside("localhost", "127.0.0.1"));
        assert!(!beside("evil.co.jp", "sharp.co.jp"));
        assert!(!beside("x.evil.co.jp", "login.sharp.co.jp"));
        assert!(!beside("tenant.auth0.com", "login.example.com"));
        assert!(!beside("example.com", "evil.com"));
        assert!(!beside("evil.example", "127.0.0.1"));
    }
}

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
}

impl Default for ValidationRules {
    fn default() -> Self {
        Self {
            issuer: None,
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
}

impl TokenValidator {
    /// A validator with its own HTTP client.
    pub fn new(rules: ValidationRules) -> Self {
        Self {
            rules,
            http: reqwest::Client::new(),
            keys: RwLock::new(HashMap::new()),
            fetching: Mutex::new(0),
        }
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

//! The simulated Auth0 tenant's signing key (derived from the seed), JWT minting, JWKS and checks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::traits::PublicKeyParts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::SimError;
use crate::clock::wall_ms;

/// An RS256 key pair with its JWKS identity.
pub struct SigningKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub kid: String,
    n: String,
    e: String,
}

impl std::fmt::Debug for SigningKey {
    // The private key must never reach Debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// One derivation per seed, shared by every simulator of that seed.
type KeySlot = Arc<OnceLock<Result<Arc<SigningKey>, String>>>;

/// Key generation takes a noticeable moment; tests start many simulators with few seeds, and
/// the desktop app derives its demo key while its window is being made (`prepare_key`).
fn key_cache() -> &'static Mutex<HashMap<u64, KeySlot>> {
    static CACHE: OnceLock<Mutex<HashMap<u64, KeySlot>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The key for `seed`, the same in every run (`RsaPrivateKey::new` over ChaCha20 seeded with it).
/// Derived once per seed: a caller that comes while another derives it waits for that one.
pub fn signing_key(seed: u64) -> Result<Arc<SigningKey>, SimError> {
    let slot = key_cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(seed)
        .or_default()
        .clone();
    slot.get_or_init(|| derive_key(seed).map(Arc::new).map_err(|e| e.to_string()))
        .clone()
        .map_err(SimError::Key)
}

/// A key nobody trusts, for tests of foreign-signed tokens.
pub fn foreign_key(seed: u64) -> Result<Arc<SigningKey>, SimError> {
    signing_key(seed ^ 0x5EED_F0E1_6000_0000)
}

fn derive_key(seed: u64) -> Result<SigningKey, SimError> {
    let private = RsaPrivateKey::new(&mut ChaCha20Rng::seed_from_u64(seed), 2048)
        .map_err(|e| SimError::Key(e.to_string()))?;
    let der = private
        .to_pkcs1_der()
        .map_err(|e| SimError::Key(e.to_string()))?;
    let public_der = private
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| SimError::Key(e.to_string()))?;
    let digest = Sha256::digest(public_der.as_bytes());
    let kid: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let n = URL_SAFE_NO_PAD.encode(private.n().to_bytes_be());
    let e = URL_SAFE_NO_PAD.encode(private.e().to_bytes_be());
    let decoding =
        DecodingKey::from_rsa_components(&n, &e).map_err(|e| SimError::Key(e.to_string()))?;
    Ok(SigningKey {
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        decoding,
        kid,
        n,
        e,
    })
}

impl SigningKey {
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256",
            "kid": self.kid, "n": self.n, "e": self.e,
        }]})
    }

    pub fn sign(&self, claims: &Claims, kid: &str) -> Result<String, SimError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .map_err(|e| SimError::Key(e.to_string()))
    }

    /// The claims of a token this key signed for `audience` and `issuer`, still valid now.
    pub fn verify(&self, token: &str, audience: &str, issuer: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 || header.kid.as_deref() != Some(self.kid.as_str()) {
            return None;
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[issuer]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// Tokens this simulator has already verified, by their whole text (signature included), so
/// that a caller's every request does not pay for an RS256 check again: with tens of agents
/// calling at once, that check was the simulator's largest cost. Only accepted tokens are
/// kept, and a kept token's expiry is checked again on every use.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    claims: Mutex<HashMap<String, Claims>>,
}

/// Enough for every live token of a test or a demo; when full, expired ones go first.
const VERIFIED_TOKENS_KEPT: usize = 256;

impl VerifiedTokens {
    /// The claims of `token` if it was accepted before and has not expired at `now_secs`,
    /// else those `verify` gives (kept when it accepts).
    pub fn get_or_verify(
        &self,
        token: &str,
        now_secs: i64,
        verify: impl FnOnce() -> Option<Claims>,
    ) -> Option<Claims> {
        let lock = || self.claims.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(claims) = lock().get(token)
            && now_secs < claims.exp
        {
            return Some(claims.clone());
        }
        let claims = verify()?;
        let mut kept = lock();
        if kept.len() >= VERIFIED_TOKENS_KEPT {
            kept.retain(|_, claims| now_secs < claims.exp);
            if kept.len() >= VERIFIED_TOKENS_KEPT {
                kept.clear();
            }
        }
        kept.insert(token.to_owned(), claims.clone());
        Some(claims)
    }
}

/// Claims of access and ID tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub email: String,
    #[serde(rename = "sspTenantId")]
    pub ssp_tenant_id: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// What to put in a token minted directly by a test; `Default` is a valid token for the demo user.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenSpec {
    /// Lifetime from now; negative = already expired.
    pub ttl_secs: i64,
    /// `nbf` relative to now (e.g. 600 = not valid for ten minutes).
    pub not_before_offset_secs: Option<i64>,
    pub email: Option<String>,
    pub tenant_id: Option<String>,
    pub audience: Option<String>,
    pub issuer: Option<String>,
    pub kid: Option<String>,
    pub sign_with_foreign_key: bool,
}

impl Default for TokenSpec {
    fn default() -> Self {
        Self {
            ttl_secs: 3600,
            not_before_offset_secs: None,
            email: None,
            tenant_id: None,
            audience: None,
            issuer: None,
            kid: None,
            sign_with_foreign_key: false,
        }
    }
}

/// The user identity the tokens describe.
pub struct Subject<'a> {
    pub email: &'a str,
    pub user_id: &'a str,
    pub tenant_id: &'a str,
}

pub const SCOPE: &str = "openid profile email read:devices write:devices";

pub fn access_claims(subject: &Subject<'_>, issuer: &str, audience: &str, ttl_secs: i64) -> Claims {
    let iat = wall_ms() / 1000;
    Claims {
        iss: issuer.to_string(),
        aud: audience.to_string(),
        sub: format!("oauth2|sharp-start|{}", subject.user_id),
        iat,
        exp: iat + ttl_secs,
        nbf: None,
        email: subject.email.to_string(),
        ssp_tenant_id: subject.tenant_id.to_string(),
        scope: SCOPE.to_string(),
        nonce: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_key_and_kid_is_16_hex() {
        let a = derive_key(42).unwrap();
        let b = signing_key(42).unwrap();
        assert_eq!(a.kid, b.kid);
        assert_eq!(a.kid.len(), 16);
        assert!(a.kid.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn verify_accepts_own_and_refuses_foreign_expired_and_wrong_audience() {
        let key = signing_key(42).unwrap();
        let foreign = foreign_key(42).unwrap();
        let subject = Subject {
            email: "a@example.com",
            user_id: "1",
            tenant_id: "t",
        };
        let good = access_claims(&subject, "iss/", "aud", 60);
        let token = key.sign(&good, &key.kid).unwrap();
        assert_eq!(
            key.verify(&token, "aud", "iss/").unwrap().email,
            "a@example.com"
        );
        assert!(key.verify(&token, "other", "iss/").is_none());
        let forged = foreign.sign(&good, &key.kid).unwrap();
        assert!(key.verify(&forged, "aud", "iss/").is_none());
        let expired = access_claims(&subject, "iss/", "aud", -60);
        assert!(
            key.verify(&key.sign(&expired, &key.kid).unwrap(), "aud", "iss/")
                .is_none()
        );
    }

    #[test]
    fn verified_tokens_skip_the_check_until_expiry_and_never_keep_a_refusal() {
        let key = signing_key(42).unwrap();
        let subject = Subject {
            email: "a@example.com",
            user_id: "1",
            tenant_id: "t",
        };
        let claims = access_claims(&subject, "iss/", "aud", 60);
        let token = key.sign(&claims, &key.kid).unwrap();
        let verified = VerifiedTokens::default();
        let checks = std::cell::Cell::new(0);
        let check = |token: &str| {
            checks.set(checks.get() + 1);
            key.verify(token, "aud", "iss/")
        };
        let now = claims.iat;
        assert!(
            verified
                .get_or_verify(&token, now, || check(&token))
                .is_some()
        );
        assert!(
            verified
                .get_or_verify(&token, now + 59, || check(&token))
                .is_some()
        );
        assert_eq!(checks.get(), 1, "an accepted token is checked once");
        // At its expiry the kept claims no longer count: the token is checked (and refused).
        assert!(
            verified
                .get_or_verify(&token, claims.exp, || None)
                .is_none()
        );
        // A refused token is not kept: the next use checks again.
        let forged = foreign_key(42).unwrap().sign(&claims, &key.kid).unwrap();
        assert!(
            verified
                .get_or_verify(&forged, now, || check(&forged))
                .is_none()
        );
        assert!(
            verified
                .get_or_verify(&forged, now, || check(&forged))
                .is_none()
        );
        assert_eq!(checks.get(), 3);
    }

    #[test]
    fn verified_tokens_stay_bounded() {
        let verified = VerifiedTokens::default();
        let claims = |exp| Claims {
            iss: "iss/".into(),
            aud: "aud".into(),
            sub: "s".into(),
            iat: 0,
            exp,
            nbf: None,
            email: "a@example.com".into(),
            ssp_tenant_id: "t".into(),
            scope: String::new(),
            nonce: None,
        };
        for i in 0..(VERIFIED_TOKENS_KEPT * 3) {
            verified.get_or_verify(&format!("token-{i}"), 10, || Some(claims(100)));
        }
        let kept = verified.claims.lock().unwrap().len();
        assert!(kept <= VERIFIED_TOKENS_KEPT, "{kept} tokens kept");
        assert!(kept > 0);
    }

    #[test]
    fn callers_of_one_seed_at_once_share_one_key() {
        let seed = 0xC0_FFEE;
        let keys: Vec<Arc<SigningKey>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..3)
                .map(|_| scope.spawn(|| signing_key(seed).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            keys.iter().all(|k| Arc::ptr_eq(k, &keys[0])),
            "one derivation"
        );
        assert!(Arc::ptr_eq(&keys[0], &signing_key(seed).unwrap()));
    }

    #[test]
    fn debug_hides_the_key() {
        let key = signing_key(42).unwrap();
        let text = format!("{key:?}");
        assert!(!text.contains(&key.n));
    }
}

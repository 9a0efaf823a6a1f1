//! Validation of captured tokens: every way a token can be wrong is refused with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common {
    pub mod keys;
}

use std::sync::OnceLock;
use std::time::Duration;

use common::keys::{AUDIENCE, ISSUER, JwksServer, TestKey, claims, now};
use rmm_auth::{TokenOrigin, TokenRejected, TokenValidator, ValidationRules};

/// RSA key generation is the slow part; one key pair serves every test.
fn keys() -> &'static (TestKey, TestKey) {
    static KEYS: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    KEYS.get_or_init(|| (TestKey::generate("key-1"), TestKey::generate("key-1")))
}

async fn setup() -> (JwksServer, TokenValidator) {
    let (key, _) = keys();
    let server = JwksServer::start(vec![key.jwk.clone()]).await;
    let validator = TokenValidator::new(ValidationRules {
        issuer: Some(ISSUER.to_owned()),
        audience: Some(AUDIENCE.to_owned()),
        jwks_url: Some(server.url.clone()),
        clock_skew: Duration::from_secs(30),
        issuer_guessed: false,
        issuer_hosts: Vec::new(),
    });
    (server, validator)
}

async fn refused(claims: serde_json::Value) -> TokenRejected {
    let (_server, v) = setup().await;
    let jwt = keys().0.sign(&claims);
    v.validate(&jwt, TokenOrigin::Pasted).await.unwrap_err()
}

#[tokio::test]
async fn a_good_token_passes_and_its_claims_are_read() {
    let (server, v) = setup().await;
    let jwt = keys().0.sign(&claims());
    let token = v
        .validate(&jwt, TokenOrigin::HeadlessBrowser)
        .await
        .unwrap();
    assert_eq!(
        token.claims().email.as_deref(),
        Some("fleet.admin@example.com")
    );
    assert_eq!(
        token.claims().tenant_id.as_deref(),
        Some("6d167a66-9c03-b981-6e37-8770c76676be")
    );
    assert_eq!(token.claims().audiences(), vec![AUDIENCE.to_owned()]);
    assert_eq!(token.origin(), TokenOrigin::HeadlessBrowser);
    assert_eq!(token.expose_jwt(), jwt);
    assert!(
        !format!("{token:?}").contains(&jwt),
        "Debug must hide the JWT"
    );
    // The keys are cached: a second token needs no second fetch.
    v.validate(&jwt, TokenOrigin::Pasted).await.unwrap();
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let mut c = claims();
    c["exp"] = (now() - 600).into();
    let e = refused(c).await;
    assert!(matches!(e, TokenRejected::Expired { .. }), "{e}");
    assert!(e.to_string().contains("expired"));
}

#[tokio::test]
async fn a_token_expired_within_the_clock_skew_still_passes() {
    let (_s, v) = setup().await;
    let mut c = claims();
    c["exp"] = (now() - 5).into();
    assert!(
        v.validate(&keys().0.sign(&c), TokenOrigin::Pasted)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let mut c = claims();
    c["nbf"] = (now() + 600).into();
    let e = refused(c).await;
    assert!(matches!(e, TokenRejected::NotYetValid { .. }), "{e}");
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let mut c = claims();
    c["aud"] = "https://someone-else.test".into();
    let e = refused(c).await;
    assert!(matches!(e, TokenRejected::WrongAudience { .. }), "{e}");
    assert!(e.to_string().contains("someone-else"), "{e}");
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let mut c = claims();
    c["iss"] = "https://evil.test/".into();
    let e = refused(c).await;
    assert!(matches!(e, TokenRejected::WrongIssuer { .. }), "{e}");
}

#[tokio::test]
async fn a_token_without_exp_is_refused() {
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    let e = refused(c).await;
    assert!(matches!(e, TokenRejected::Malformed(_)), "{e}");
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let (_s, v) = setup().await;
    // Same kid, different private key: the signature cannot match the published key.
    let jwt = keys().1.sign(&claims());
    let e = v.validate(&jwt, TokenOrigin::Pasted).await.unwrap_err();
    assert!(matches!(e, TokenRejected::BadSignature), "{e}");
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let (_s, v) = setup().await;
    let jwt = keys().0.sign(&claims());
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let mut c = claims();
    c["sspTenantId"] = "another-tenant".into();
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string());
    let e = v
        .validate(&parts.join("."), TokenOrigin::Pasted)
        .await
        .unwrap_err();
    assert!(matches!(e, TokenRejected::BadSignature), "{e}");
}

#[tokio::test]
async fn an_unknown_kid_is_refused_after_fetching_the_keys_again() {
    let (server, v) = setup().await;
    v.validate(&keys().0.sign(&claims()), TokenOrigin::Pasted)
        .await
        .unwrap();
    assert_eq!(server.hits(), 1);
    let jwt = keys().0.sign_with_kid(&claims(), "rotated-key");
    let e = v.validate(&jwt, TokenOrigin::Pasted).await.unwrap_err();
    assert!(
        matches!(e, TokenRejected::UnknownKeyId { ref kid } if kid == "rotated-key"),
        "{e}"
    );
    assert_eq!(
        server.hits(),
        2,
        "an unknown kid must trigger a fresh JWKS fetch"
    );
}

#[tokio::test]
async fn a_truncated_token_is_refused() {
    let (_s, v) = setup().await;
    let jwt = keys().0.sign(&claims());
    let half = &jwt[..jwt.len() / 2];
    let e = v.validate(half, TokenOrigin::Pasted).await.unwrap_err();
    assert!(matches!(e, TokenRejected::Malformed(_)), "{e}");
    let short_sig = &jwt[..jwt.len() - 12];
    let e = v
        .validate(short_sig, TokenOrigin::Pasted)
        .await
        .unwrap_err();
    assert!(
        matches!(e, TokenRejected::BadSignature | TokenRejected::Malformed(_)),
        "{e}"
    );
}

#[tokio::test]
async fn garbage_is_refused_without_echoing_it() {
    let (server, v) = setup().await;
    for garbage in [
        "",
        "hello",
        "a.b.c",
        "....",
        "eyJhbGciOiJSUzI1NiJ9.!!!.x",
        "Bearer x.y.z",
    ] {
        let e = v.validate(garbage, TokenOrigin::Pasted).await.unwrap_err();
        assert!(matches!(e, TokenRejected::Malformed(_)), "{garbage:?}: {e}");
        if garbage.len() > 4 {
            assert!(!e.to_string().contains(garbage), "{e}");
        }
    }
    assert_eq!(
        server.hits(),
        0,
        "garbage must be refused before any key fetch"
    );
}

#[tokio::test]
async fn a_symmetric_algorithm_is_refused() {
    let (_s, v) = setup().await;
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some("key-1".to_owned());
    let jwt = jsonwebtoken::encode(
        &h,
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"public"),
    )
    .unwrap();
    let e = v.validate(&jwt, TokenOrigin::Pasted).await.unwrap_err();
    assert!(matches!(e, TokenRejected::UnsupportedAlgorithm(_)), "{e}");
}

#[tokio::test]
async fn no_key_source_is_a_clear_error() {
    let v = TokenValidator::new(ValidationRules::default());
    let e = v
        .validate(&keys().0.sign(&claims()), TokenOrigin::Pasted)
        .await
        .unwrap_err();
    assert!(matches!(e, TokenRejected::NoKeySource), "{e}");
    assert!(e.to_string().contains("jwks_url"));
}

/// A profile that names no issuer guesses the login page's origin; a token of another issuer
/// (a custom Auth0 domain) is checked against its own discovery document and keys, and the
/// issuer learned is given for the profile to pin. A token of a guessed issuer is not taken
/// when nobody said the issuer was a guess.
#[tokio::test]
async fn a_guessed_issuer_gives_way_to_the_tokens_own_discovery_document() {
    let sim = rmm_sim::start(rmm_sim::SimConfig::default()).await.unwrap();
    let issuer = sim.info().issuer.clone();
    // The same server under another name: the guess (its origin) is not the token's issuer.
    let guess = issuer.replace("127.0.0.1", "localhost");
    assert_ne!(guess, issuer);
    let rules = |guessed: bool| ValidationRules {
        issuer: Some(guess.clone()),
        issuer_guessed: guessed,
        // The login page is on `localhost`; the issuer beside it, on loopback too.
        issuer_hosts: vec!["localhost".to_owned()],
        ..ValidationRules::default()
    };
    let jwt = sim.valid_token();

    let strict = TokenValidator::new(rules(false));
    let refused = strict
        .validate(&jwt, TokenOrigin::Pasted)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, TokenRejected::WrongIssuer { .. }),
        "{refused}"
    );
    assert_eq!(strict.learned_issuer().await, None);

    let learning = TokenValidator::new(rules(true));
    let token = learning.validate(&jwt, TokenOrigin::Pasted).await.unwrap();
    assert_eq!(token.claims().iss.as_deref(), Some(issuer.as_str()));
    let learned = learning.learned_issuer().await.unwrap();
    assert_eq!(learned.issuer, issuer);
    assert_eq!(learned.jwks_url.as_str(), sim.info().jwks_url);
    // Learned once: the next token is checked without another discovery.
    learning
        .validate(&sim.valid_token(), TokenOrigin::Pasted)
        .await
        .unwrap();

    // A token of its own issuer, but signed with another key, is still refused.
    let forged = sim.mint_token(&rmm_sim::TokenSpec {
        sign_with_foreign_key: true,
        ..rmm_sim::TokenSpec::default()
    });
    let refused = learning
        .validate(&forged, TokenOrigin::Pasted)
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            TokenRejected::BadSignature | TokenRejected::UnknownKeyId { .. }
        ),
        "{refused}"
    );
    // An issuer whose discovery document is not there is refused, naming it.
    let elsewhere = sim.mint_token(&rmm_sim::TokenSpec {
        issuer: Some(format!("{issuer}nowhere/")),
        ..rmm_sim::TokenSpec::default()
    });
    let refused = TokenValidator::new(rules(true))
        .validate(&elsewhere, TokenOrigin::Pasted)
        .await
        .unwrap_err();
    assert!(matches!(refused, TokenRejected::Jwks { .. }), "{refused}");

    // A page handing over a token of an issuer of its own choosing, away from the login page
    // and the dashboard: refused before anything is fetched from it.
    let foreign = sim.mint_token(&rmm_sim::TokenSpec {
        issuer: Some("https://evil.example/".to_owned()),
        ..rmm_sim::TokenSpec::default()
    });
    let refused = TokenValidator::new(ValidationRules {
        issuer_hosts: vec!["login.example.com".to_owned()],
        ..rules(true)
    })
    .validate(&foreign, TokenOrigin::Pasted)
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("not beside the profile's login page"),
        "{refused}"
    );
}

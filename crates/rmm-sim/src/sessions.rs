//! Login state: Auth0 and IdP sessions, pending authorize transactions, codes and lockouts.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Wrong passwords in a row before the account is locked, and for how long (simulated).
pub const LOCKOUT_AFTER: u32 = 5;
pub const LOCKOUT_MS: i64 = 10 * 60_000;
/// Authorization codes live this long (simulated).
pub const CODE_TTL_MS: i64 = 5 * 60_000;

/// The parameters of one `/authorize` call, kept until the login completes.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeRequest {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
}

#[derive(Debug)]
pub struct IssuedCode {
    pub request: AuthorizeRequest,
    pub expires_at: i64,
}

/// Why a code exchange was refused (the message is safe to show).
#[derive(Debug, PartialEq, Eq)]
pub struct GrantRefusal(pub &'static str);

#[derive(Debug, Default)]
struct Lockout {
    failures: u32,
    locked_until: Option<i64>,
}

/// Outcome of a DNN password check.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordCheck {
    Accepted,
    Rejected,
    LockedOut,
}

#[derive(Debug, Default)]
pub struct AuthState {
    auth0_sessions: HashMap<String, i64>,
    idp_sessions: HashMap<String, i64>,
    transactions: HashMap<String, AuthorizeRequest>,
    codes: HashMap<String, IssuedCode>,
    idp_codes: HashMap<String, i64>,
    lockouts: HashMap<String, Lockout>,
}

/// An unguessable identifier for codes, sessions and transactions.
pub fn random_id() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn live(map: &HashMap<String, i64>, id: Option<&str>, now: i64) -> bool {
    id.and_then(|id| map.get(id))
        .is_some_and(|&until| now < until)
}

impl AuthState {
    pub fn auth0_session_live(&self, id: Option<&str>, now: i64) -> bool {
        live(&self.auth0_sessions, id, now)
    }

    pub fn idp_session_live(&self, id: Option<&str>, now: i64) -> bool {
        live(&self.idp_sessions, id, now)
    }

    pub fn new_auth0_session(&mut self, until: i64) -> String {
        let id = random_id();
        self.auth0_sessions.insert(id.clone(), until);
        id
    }

    pub fn new_idp_session(&mut self, until: i64) -> String {
        let id = random_id();
        self.idp_sessions.insert(id.clone(), until);
        id
    }

    pub fn end_auth0_session(&mut self, id: &str) {
        self.auth0_sessions.remove(id);
    }

    pub fn end_all_sessions(&mut self) {
        self.auth0_sessions.clear();
        self.idp_sessions.clear();
    }

    pub fn begin_transaction(&mut self, request: AuthorizeRequest) -> String {
        let id = random_id();
        self.transactions.insert(id.clone(), request);
        id
    }

    pub fn transaction(&self, id: &str) -> Option<&AuthorizeRequest> {
        self.transactions.get(id)
    }

    pub fn finish_transaction(&mut self, id: &str) -> Option<AuthorizeRequest> {
        self.transactions.remove(id)
    }

    pub fn issue_code(&mut self, request: AuthorizeRequest, now: i64) -> String {
        let code = random_id();
        self.codes.insert(
            code.clone(),
            IssuedCode {
                request,
                expires_at: now + CODE_TTL_MS,
            },
        );
        code
    }

    /// Redeems a code once: the client, redirect URI and PKCE verifier must match.
    pub fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        now: i64,
    ) -> Result<AuthorizeRequest, GrantRefusal> {
        // Removed before checking: a refused attempt burns the code, as in Auth0.
        let issued = self
            .codes
            .remove(code)
            .ok_or(GrantRefusal("Invalid authorization code"))?;
        if now >= issued.expires_at {
            return Err(GrantRefusal("Authorization code has expired"));
        }
        if issued.request.client_id != client_id {
            return Err(GrantRefusal("Client mismatch"));
        }
        if redirect_uri.is_some_and(|uri| uri != issued.request.redirect_uri) {
            return Err(GrantRefusal("redirect_uri mismatch"));
        }
        match (&issued.request.code_challenge, verifier) {
            (Some(challenge), Some(verifier)) if &s256(verifier) == challenge => {}
            (None, _) => {}
            _ => return Err(GrantRefusal("Failed to verify code verifier")),
        }
        Ok(issued.request)
    }

    pub fn issue_idp_code(&mut self, now: i64) -> String {
        let code = random_id();
        self.idp_codes.insert(code.clone(), now + CODE_TTL_MS);
        code
    }

    pub fn redeem_idp_code(&mut self, code: &str, now: i64) -> bool {
        self.idp_codes.remove(code).is_some_and(|until| now < until)
    }

    /// Records a password attempt for `username`; `correct` says whether it matched.
    pub fn check_password(&mut self, username: &str, correct: bool, now: i64) -> PasswordCheck {
        let lockout = self.lockouts.entry(username.to_lowercase()).or_default();
        if lockout.locked_until.is_some_and(|until| now < until) {
            return PasswordCheck::LockedOut;
        }
        if correct {
            *lockout = Lockout::default();
            return PasswordCheck::Accepted;
        }
        lockout.failures += 1;
        if lockout.failures >= LOCKOUT_AFTER {
            lockout.failures = 0;
            lockout.locked_until = Some(now + LOCKOUT_MS);
            return PasswordCheck::LockedOut;
        }
        PasswordCheck::Rejected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifth_wrong_password_locks_even_the_right_one_out() {
        let mut state = AuthState::default();
        for _ in 0..4 {
            assert_eq!(state.check_password("u", false, 0), PasswordCheck::Rejected);
        }
        assert_eq!(
            state.check_password("u", false, 0),
            PasswordCheck::LockedOut
        );
        assert_eq!(state.check_password("u", true, 1), PasswordCheck::LockedOut);
        assert_eq!(
            state.check_password("u", true, LOCKOUT_MS + 1),
            PasswordCheck::Accepted
        );
    }

    #[test]
    fn code_is_single_use_and_checks_the_verifier() {
        let mut state = AuthState::default();
        let request = AuthorizeRequest {
            client_id: "c".into(),
            redirect_uri: "r".into(),
            code_challenge: Some(s256("verifier")),
            ..AuthorizeRequest::default()
        };
        let code = state.issue_code(request.clone(), 0);
        assert!(
            state
                .redeem_code(&code, "c", Some("r"), Some("wrong"), 0)
                .is_err()
        );
        assert!(
            state
                .redeem_code(&code, "c", Some("r"), Some("verifier"), 0)
                .is_err(),
            "burnt"
        );
        let code = state.issue_code(request, 0);
        assert!(
            state
                .redeem_code(&code, "c", Some("r"), Some("verifier"), 0)
                .is_ok()
        );
        assert!(
            state
                .redeem_code(&code, "c", Some("r"), Some("verifier"), 0)
                .is_err()
        );
    }

    #[test]
    fn s256_is_unpadded_base64url_of_sha256() {
        // SHA-256("abc") = ba7816bf...15ad, as base64url without padding.
        assert_eq!(s256("abc"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
    }
}

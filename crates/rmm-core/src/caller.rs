//! `Caller` (who asked for an operation: the person in the app, a CLI user, an MCP client) and
//! `TokenFacts` (who the token belongs to, their tenant and its expiry), read from the token's
//! claims without ever keeping or showing the token itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rmm_api::BearerToken;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who asked for an operation; written to the audit log with every change.
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Caller {
    /// The person using the desktop app.
    Person { name: String },
    /// Someone at the terminal (`rmm schedule ...`): the OS user name.
    CliUser { user: String },
    /// An MCP client, by the name it gave at initialization and its session.
    McpClient { name: String, session: String },
    /// A rollout's engine acting for the one who started it (`started_by`: kind and name).
    Rollout {
        rollout_id: i64,
        rollout: String,
        started_by: String,
    },
}

impl Caller {
    /// The kind, as stored in the audit log (`person`, `cli_user`, `mcp_client`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Person { .. } => "person",
            Self::CliUser { .. } => "cli_user",
            Self::McpClient { .. } => "mcp_client",
            Self::Rollout { .. } => "rollout",
        }
    }

    /// The name (person, OS user, or MCP client; for a rollout, who started it).
    pub fn name(&self) -> &str {
        match self {
            Self::Person { name } | Self::McpClient { name, .. } => name,
            Self::CliUser { user } => user,
            Self::Rollout { started_by, .. } => started_by,
        }
    }

    /// The OS user's name (`USER`, `USERNAME` or `LOGNAME`), for callers with no other name.
    pub fn os_user_name() -> Option<String> {
        ["USER", "USERNAME", "LOGNAME"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// The MCP session, when there is one.
    pub fn session(&self) -> Option<&str> {
        match self {
            Self::McpClient { session, .. } => Some(session),
            _ => None,
        }
    }
}

/// What the token says about its holder. The token's text is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TokenFacts {
    /// `email` claim, when present.
    pub email: Option<String>,
    /// `sub` claim.
    pub subject: Option<String>,
    /// `sspTenantId`: the caller's default group id.
    pub tenant_id: Option<String>,
    /// `exp`, Unix seconds.
    pub expires_at: Option<u64>,
}

/// The claims we read; everything else in the payload is ignored.
#[derive(Deserialize)]
struct Claims {
    email: Option<String>,
    sub: Option<String>,
    #[serde(rename = "sspTenantId")]
    ssp_tenant_id: Option<String>,
    exp: Option<u64>,
}

impl TokenFacts {
    /// Reads the claims of a JWT. The signature is not checked here: the token comes from
    /// our own token source, which validated it; this only reads who and which tenant.
    pub fn from_token(token: &BearerToken) -> Option<Self> {
        let payload = token.expose_secret().split('.').nth(1)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        let claims: Claims = serde_json::from_slice(&bytes).ok()?;
        Some(Self {
            email: claims.email,
            subject: claims.sub,
            tenant_id: claims.ssp_tenant_id.filter(|t| !t.trim().is_empty()),
            expires_at: claims.exp,
        })
    }

    /// Seconds left before expiry at `now` (0 when expired, `None` when unknown).
    pub fn seconds_left(&self, now: SystemTime) -> Option<u64> {
        let now = now
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        self.expires_at.map(|exp| exp.saturating_sub(now))
    }

    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.seconds_left(now) == Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> BearerToken {
        let body = URL_SAFE_NO_PAD.encode(payload);
        BearerToken::new(format!("eyJhbGciOiJSUzI1NiJ9.{body}.c2ln")).unwrap()
    }

    #[test]
    fn reads_tenant_email_and_expiry() {
        let token =
            jwt(r#"{"sub":"oauth2|x","email":"a@b.c","sspTenantId":"g-1","exp":4000000000}"#);
        let facts = TokenFacts::from_token(&token).unwrap();
        assert_eq!(facts.tenant_id.as_deref(), Some("g-1"));
        assert_eq!(facts.email.as_deref(), Some("a@b.c"));
        assert!(!facts.is_expired(SystemTime::now()));
        let shown = format!("{facts:?}");
        assert!(!shown.contains("c2ln"), "{shown}");
    }

    #[test]
    fn an_empty_tenant_is_no_tenant_and_garbage_is_none() {
        let facts = TokenFacts::from_token(&jwt(r#"{"sspTenantId":" ","exp":1}"#)).unwrap();
        assert_eq!(facts.tenant_id, None);
        assert!(facts.is_expired(SystemTime::now()));
        assert!(TokenFacts::from_token(&BearerToken::new("not-a-jwt").unwrap()).is_none());
    }
}

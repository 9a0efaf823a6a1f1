//! `ApiPath`: a request path that cannot lead the bearer token away from the configured API
//! origin. Anything that could change the host or climb out of the base path is refused
//! before a request is built.

use std::fmt;

/// A path refused by [`ApiPath::new`], with the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused API path {shown}: {rule}; the token is only sent to the configured API origin")]
pub struct ApiPathError {
    /// The path, with control characters escaped and cut to a readable length.
    pub shown: String,
    pub rule: &'static str,
}

/// A path (with optional query) under the API base URL, e.g. `/rmm/fss/fwupd/getFirmwareDataList`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ApiPath(String);

/// Characters allowed as they are in the path part (RFC 3986 unreserved and sub-delims, `/`).
fn plain_path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=/".contains(&c)
}

/// In the query `/`, `?`, `:` and `@` are harmless: they cannot change the host.
fn plain_query_char(c: u8) -> bool {
    plain_path_char(c) || b"?:@".contains(&c)
}

/// Bytes that, percent-encoded, could be decoded by some server or proxy into a path trick.
fn dangerous_decoded(b: u8) -> bool {
    b.is_ascii_control() || b >= 0x80 || b"./\\@:%?#".contains(&b)
}

impl ApiPath {
    pub const MAX_LEN: usize = 2048;

    pub fn new(path: &str) -> Result<Self, ApiPathError> {
        let refuse = |rule| {
            Err(ApiPathError {
                shown: shown(path),
                rule,
            })
        };
        if path.is_empty() {
            return refuse("it is empty; it must start with `/`");
        }
        if path.len() > Self::MAX_LEN {
            return refuse("it is longer than 2048 characters");
        }
        if path.bytes().any(|b| b.is_ascii_control()) {
            return refuse("it contains control characters");
        }
        if !path.is_ascii() {
            return refuse("it contains non-ASCII characters; percent-encode them");
        }
        if path.contains('\\') {
            return refuse("it contains a backslash");
        }
        if !path.starts_with('/') {
            return refuse("it must be a path starting with `/`, not a URL or a relative path");
        }
        if path.starts_with("//") {
            return refuse("`//` at the start names another host");
        }
        if path.contains('#') {
            return refuse("it contains a fragment (`#`)");
        }
        let (path_part, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        if path_part.contains('@') {
            return refuse("`@` is not allowed in the path (user-info trick)");
        }
        if path_part.contains(':') {
            return refuse("`:` is not allowed in the path (scheme or port trick)");
        }
        for segment in path_part.split('/') {
            if segment == "." || segment == ".." {
                return refuse("`.` and `..` segments are not allowed");
            }
        }
        check_chars(path_part, plain_path_char).map_err(|rule| ApiPathError {
            shown: shown(path),
            rule,
        })?;
        if let Some(q) = query {
            check_chars(q, plain_query_char).map_err(|rule| ApiPathError {
                shown: shown(path),
                rule,
            })?;
        }
        Ok(Self(path.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path without its query.
    pub fn path_only(&self) -> &str {
        self.0.split_once('?').map_or(self.0.as_str(), |(p, _)| p)
    }
}

fn check_chars(text: &str, plain: fn(u8) -> bool) -> Result<(), &'static str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or("a `%` is not followed by two hex digits")?;
            let decoded = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("a `%` is not followed by two hex digits")?;
            if dangerous_decoded(decoded) {
                return Err(
                    "it percent-encodes a character that could change the path or host (such as %2e, %2f, %5c, %40, %25, %00)",
                );
            }
            i += 3;
        } else if plain(b) {
            i += 1;
        } else {
            return Err(
                "it contains a character that must be percent-encoded (such as a space, quote or angle bracket)",
            );
        }
    }
    Ok(())
}

fn shown(path: &str) -> String {
    let escaped: String = path
        .chars()
        .flat_map(char::escape_default)
        .take(120)
        .collect();
    format!("\"{escaped}\"")
}

impl fmt::Display for ApiPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ApiPath {
    type Err = ApiPathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn api_paths_are_accepted() {
        for ok in [
            "/api/v1/tenants",
            "/rmm/fss/fwupd/getFirmwareUpdateList",
            "/stateful/fss/fwupd/setOTAMode",
            "/api/v1/tenants?page=2&size=10",
            "/api/v1/items/a%20b",
            "/api/v1/x?next=/a:b@c",
            "/api/v1.2/x",
        ] {
            assert_eq!(ApiPath::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn every_way_out_of_the_origin_is_refused() {
        for bad in [
            "",
            "https://evil.example/api/v1/tenants",
            "http:/evil",
            "//evil.example/x",
            "api/v1/tenants",
            "/@evil.example",
            "/x@evil.example/",
            "/\\evil.example",
            "/..",
            "/api/../../x",
            "/api/./x",
            "/api/%2e%2e/x",
            "/api/%2E%2E/x",
            "/api/%2fevil",
            "/api/%5cevil",
            "/api/%40evil",
            "/api/%00",
            "/api/%252e%252e/",
            "/api/x%",
            "/api/x%zz",
            "/api/\nHost: evil",
            "/api/\u{0}",
            "/api/x#frag",
            "/api/x y",
            "/api/ẋ",
            "/:evil",
            "/api/x?a=%0d%0aHost:evil",
        ] {
            let err = ApiPath::new(bad).expect_err(bad);
            assert!(err.to_string().contains("refused API path"), "{err}");
            assert!(!err.shown.contains('\n'));
        }
    }

    proptest! {
        #[test]
        fn accepted_paths_stay_on_the_origin(path in "[/a-zA-Z0-9%.@:?&=\\\\-]{0,30}") {
            if let Ok(p) = ApiPath::new(&path) {
                let base = url::Url::parse("https://api.example/base").unwrap();
                let joined = url::Url::parse(&format!("https://api.example/base{}", p.as_str())).unwrap();
                prop_assert_eq!(joined.origin(), base.origin());
                prop_assert!(joined.path().starts_with("/base/") || joined.path() == "/base");
                prop_assert!(!p.path_only().split('/').any(|s| s == ".." || s == "."));
            }
        }
    }
}

//! `DeviceId`: the cloud's identifier of one printer, as the cloud wrote it.
//!
//! The documented shape is `mn=<base64 maker/model>:sn=<base64 serial>`, both parts standard
//! base64 (RFC 4648 alphabet `A-Z a-z 0-9 + /`) with the `=` padding and canonical trailing
//! bits, each decoding to non-empty UTF-8: such an id is *canonical* and its parts are decoded.
//! Any other id the cloud sends is kept as an *opaque* id, exactly as it came, and flagged with
//! the reason it is not canonical ([`DeviceId::oddity`]): the client never drops a device for
//! the look of its id. Either way `Display` gives back exactly the text that was parsed.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest device id accepted; real ones are well under 100 characters.
pub const MAX_DEVICE_ID_LEN: usize = 1024;

const MAKER_PREFIX: &str = "mn=";
const SERIAL_PREFIX: &str = "sn=";

/// Which half of a device id a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceIdPart {
    /// `mn=`: the maker/model.
    Maker,
    /// `sn=`: the serial number.
    Serial,
}

impl fmt::Display for DeviceIdPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Maker => f.write_str("maker part (`mn=`)"),
            Self::Serial => f.write_str("serial part (`sn=`)"),
        }
    }
}

/// Why a text is not a device id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceIdError {
    #[error("device id is empty; expected `mn=<base64>:sn=<base64>`")]
    Empty,
    #[error("device id is {len} characters long; at most {MAX_DEVICE_ID_LEN} are allowed")]
    TooLong { len: usize },
    #[error("device id must start with `mn=`; expected `mn=<base64>:sn=<base64>`")]
    MissingMakerPrefix,
    #[error("device id has no `:sn=` after the maker part; expected `mn=<base64>:sn=<base64>`")]
    MissingSerialPart,
    #[error("device id has an empty {part}")]
    EmptyPart { part: DeviceIdPart },
    #[error(
        "device id has bad base64 in the {part}: {detail} (standard alphabet, `=` padding required)"
    )]
    InvalidBase64 { part: DeviceIdPart, detail: String },
    #[error("device id's {part} does not decode to UTF-8 text")]
    NotUtf8 { part: DeviceIdPart },
    #[error("device id contains white space or a control character")]
    BadCharacter,
}

/// A device id: the exact text, and for a canonical id its decoded maker/model and serial.
/// Equality, hashing and order are those of the text.
#[derive(Clone)]
pub struct DeviceId {
    raw: String,
    maker: String,
    serial: String,
    /// Why the id is not canonical; `None` for a canonical id.
    oddity: Option<DeviceIdError>,
}

impl PartialEq for DeviceId {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for DeviceId {}

impl std::hash::Hash for DeviceId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

impl PartialOrd for DeviceId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for DeviceId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.raw.cmp(&other.raw)
    }
}

impl DeviceId {
    /// Builds the id of the device with this maker/model and serial number.
    pub fn new(maker: &str, serial: &str) -> Result<Self, DeviceIdError> {
        if maker.is_empty() {
            return Err(DeviceIdError::EmptyPart {
                part: DeviceIdPart::Maker,
            });
        }
        if serial.is_empty() {
            return Err(DeviceIdError::EmptyPart {
                part: DeviceIdPart::Serial,
            });
        }
        let raw = format!(
            "{MAKER_PREFIX}{}:{SERIAL_PREFIX}{}",
            STANDARD.encode(maker),
            STANDARD.encode(serial)
        );
        if raw.len() > MAX_DEVICE_ID_LEN {
            return Err(DeviceIdError::TooLong { len: raw.len() });
        }
        Ok(Self {
            raw,
            maker: maker.to_owned(),
            serial: serial.to_owned(),
            oddity: None,
        })
    }

    /// An empty value, only ever seen inside `Device`'s reader before `deviceId` is read.
    pub(crate) fn placeholder() -> Self {
        Self {
            raw: String::new(),
            maker: String::new(),
            serial: String::new(),
            oddity: Some(DeviceIdError::Empty),
        }
    }

    /// Parses only the documented, canonical shape, naming what is wrong with any other text.
    pub fn parse_canonical(s: &str) -> Result<Self, DeviceIdError> {
        if s.is_empty() {
            return Err(DeviceIdError::Empty);
        }
        if s.len() > MAX_DEVICE_ID_LEN {
            return Err(DeviceIdError::TooLong { len: s.len() });
        }
        let rest = s
            .strip_prefix(MAKER_PREFIX)
            .ok_or(DeviceIdError::MissingMakerPrefix)?;
        // Base64 never contains ':', so the first one ends the maker part.
        let (maker_b64, serial_field) = rest
            .split_once(':')
            .ok_or(DeviceIdError::MissingSerialPart)?;
        let serial_b64 = serial_field
            .strip_prefix(SERIAL_PREFIX)
            .ok_or(DeviceIdError::MissingSerialPart)?;
        let maker = decode_part(maker_b64, DeviceIdPart::Maker)?;
        let serial = decode_part(serial_b64, DeviceIdPart::Serial)?;
        Ok(Self {
            raw: s.to_owned(),
            maker,
            serial,
            oddity: None,
        })
    }

    /// Whether the id has the documented shape (its parts are then decoded).
    pub fn is_canonical(&self) -> bool {
        self.oddity.is_none()
    }

    /// Why the id is not canonical (e.g. base64 without padding); `None` when it is.
    pub fn oddity(&self) -> Option<&DeviceIdError> {
        self.oddity.as_ref()
    }

    /// The id exactly as the cloud writes it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The decoded maker/model part (e.g. "Sharp"); empty for an opaque id.
    pub fn maker(&self) -> &str {
        &self.maker
    }

    /// The decoded serial number; empty for an opaque id.
    pub fn serial(&self) -> &str {
        &self.serial
    }
}

/// What every id must be, canonical or not: 1 to [`MAX_DEVICE_ID_LEN`] characters without
/// white space or control characters (so it can be shown, logged and passed as an argument).
fn check_text(s: &str) -> Result<(), DeviceIdError> {
    if s.is_empty() {
        return Err(DeviceIdError::Empty);
    }
    if s.len() > MAX_DEVICE_ID_LEN {
        return Err(DeviceIdError::TooLong { len: s.len() });
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(DeviceIdError::BadCharacter);
    }
    Ok(())
}

fn decode_part(encoded: &str, part: DeviceIdPart) -> Result<String, DeviceIdError> {
    if encoded.is_empty() {
        return Err(DeviceIdError::EmptyPart { part });
    }
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|e| DeviceIdError::InvalidBase64 {
            part,
            detail: e.to_string(),
        })?;
    if bytes.is_empty() {
        return Err(DeviceIdError::EmptyPart { part });
    }
    String::from_utf8(bytes).map_err(|_| DeviceIdError::NotUtf8 { part })
}

impl FromStr for DeviceId {
    type Err = DeviceIdError;

    /// A canonical id, or else an opaque one flagged with its oddity; only an empty, overlong
    /// or unprintable text is refused.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_text(s)?;
        match Self::parse_canonical(s) {
            Ok(id) => Ok(id),
            Err(oddity) => Ok(Self {
                raw: s.to_owned(),
                maker: String::new(),
                serial: String::new(),
                oddity: Some(oddity),
            }),
        }
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.oddity {
            None => write!(
                f,
                "DeviceId({:?} = {:?}/{:?})",
                self.raw, self.maker, self.serial
            ),
            Some(_) => write!(f, "DeviceId({:?}, opaque)", self.raw),
        }
    }
}

impl Serialize for DeviceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for DeviceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_documented_example() {
        let id: DeviceId = "mn=U2hhcnA=:sn=MTIzNDU2Nzg=".parse().unwrap();
        assert_eq!(id.maker(), "Sharp");
        assert_eq!(id.serial(), "12345678");
        assert_eq!(id.to_string(), "mn=U2hhcnA=:sn=MTIzNDU2Nzg=");
    }

    #[test]
    fn new_builds_the_canonical_text() {
        let id = DeviceId::new("Sharp", "12345678").unwrap();
        assert_eq!(id.as_str(), "mn=U2hhcnA=:sn=MTIzNDU2Nzg=");
        assert_eq!(
            DeviceId::new("", "1"),
            Err(DeviceIdError::EmptyPart {
                part: DeviceIdPart::Maker
            })
        );
        assert_eq!(
            DeviceId::new("Sharp", ""),
            Err(DeviceIdError::EmptyPart {
                part: DeviceIdPart::Serial
            })
        );
    }

    #[test]
    fn each_kind_of_bad_id_gets_its_own_error() {
        let cases: &[(&str, DeviceIdError)] = &[
            ("", DeviceIdError::Empty),
            ("U2hhcnA=:sn=MTIz", DeviceIdError::MissingMakerPrefix),
            ("MN=U2hhcnA=:sn=MTIz", DeviceIdError::MissingMakerPrefix),
            ("mn=U2hhcnA=", DeviceIdError::MissingSerialPart),
            ("mn=U2hhcnA=:SN=MTIz", DeviceIdError::MissingSerialPart),
            (
                "mn=:sn=MTIz",
                DeviceIdError::EmptyPart {
                    part: DeviceIdPart::Maker,
                },
            ),
            (
                "mn=U2hhcnA=:sn=",
                DeviceIdError::EmptyPart {
                    part: DeviceIdPart::Serial,
                },
            ),
            (
                "mn=U2hhcnA=:sn=/w==",
                DeviceIdError::NotUtf8 {
                    part: DeviceIdPart::Serial,
                },
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                &DeviceId::parse_canonical(text).unwrap_err(),
                expected,
                "{text}"
            );
            // Read as it came, it is kept, opaque, with the same reason.
            if *expected != DeviceIdError::Empty {
                let opaque: DeviceId = text.parse().unwrap();
                assert_eq!(opaque.as_str(), *text);
                assert!(!opaque.is_canonical());
                assert_eq!(opaque.oddity(), Some(expected));
                assert_eq!(opaque.serial(), "");
            }
        }
    }

    #[test]
    fn only_empty_overlong_or_unprintable_text_is_refused() {
        assert_eq!("".parse::<DeviceId>(), Err(DeviceIdError::Empty));
        assert_eq!(
            "SHARP 1".parse::<DeviceId>(),
            Err(DeviceIdError::BadCharacter)
        );
        assert_eq!(
            "a\u{7}".parse::<DeviceId>(),
            Err(DeviceIdError::BadCharacter)
        );
        let opaque: DeviceId = "SHARP-12345679".parse().unwrap();
        assert_eq!(opaque.to_string(), "SHARP-12345679");
        assert_eq!(
            format!("{opaque:?}"),
            "DeviceId(\"SHARP-12345679\", opaque)"
        );
        let canonical: DeviceId = "mn=U2hhcnA=:sn=MTIzNDU2Nzg=".parse().unwrap();
        assert!(canonical.is_canonical() && canonical.oddity().is_none());
        assert_ne!(opaque, canonical);
    }

    #[test]
    fn base64_must_be_standard_padded_and_canonical() {
        // Unpadded, URL-safe alphabet, non-canonical trailing bits, whitespace.
        for (text, part) in [
            ("mn=U2hhcnA:sn=MTIz", DeviceIdPart::Maker),
            ("mn=U2hhcnA=:sn=MTIzNDU2Nzg", DeviceIdPart::Serial),
            ("mn=U2hhcnA=:sn=-_8=", DeviceIdPart::Serial),
            ("mn=U2hhcnB=:sn=MTIz", DeviceIdPart::Maker),
            ("mn=U2hh cnA=:sn=MTIz", DeviceIdPart::Maker),
            ("mn=U2hhcnA=:sn=MTIz:", DeviceIdPart::Serial),
        ] {
            match DeviceId::parse_canonical(text) {
                Err(DeviceIdError::InvalidBase64 { part: got, .. }) => {
                    assert_eq!(got, part, "{text}")
                }
                other => panic!("{text}: expected bad base64, got {other:?}"),
            }
        }
    }

    #[test]
    fn errors_name_the_part_and_the_rule() {
        let err = DeviceId::parse_canonical("mn=U2hhcnA=:sn=%%%%").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("serial part (`sn=`)"), "{text}");
        assert!(text.contains("base64"), "{text}");
        let too_long = format!("mn={}:sn=MTIz", "A".repeat(MAX_DEVICE_ID_LEN));
        assert!(matches!(
            too_long.parse::<DeviceId>(),
            Err(DeviceIdError::TooLong { .. })
        ));
        let opaque: DeviceId = "mn=U2hhcnA=:sn=%%%%".parse().unwrap();
        assert!(opaque.oddity().unwrap().to_string().contains("base64"));
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let id = DeviceId::new("Sharp", "A1").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        let back: DeviceId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        let odd = serde_json::from_str::<DeviceId>("\"sn=MTIz\"").unwrap();
        let why = odd.oddity().unwrap().to_string();
        assert!(why.contains("must start with `mn=`"), "{why}");
        assert!(serde_json::from_str::<DeviceId>("\"\"").is_err());
    }

    proptest! {
        #[test]
        fn new_then_parse_round_trips(maker in "\\PC{1,40}", serial in "\\PC{1,40}") {
            let id = DeviceId::new(&maker, &serial).unwrap();
            let parsed: DeviceId = id.to_string().parse().unwrap();
            prop_assert_eq!(parsed.maker(), maker.as_str());
            prop_assert_eq!(parsed.serial(), serial.as_str());
            prop_assert_eq!(parsed.to_string(), id.to_string());
            prop_assert_eq!(parsed, id);
        }

        #[test]
        fn any_accepted_text_displays_back_exactly(text in "mn=[A-Za-z0-9+/=]{0,12}:sn=[A-Za-z0-9+/=]{0,12}") {
            if let Ok(id) = DeviceId::parse_canonical(&text) {
                prop_assert_eq!(id.to_string(), text.clone());
                // Canonical: re-encoding the decoded parts gives the same text.
                prop_assert_eq!(DeviceId::new(id.maker(), id.serial()).unwrap().to_string(), text);
            }
        }

        #[test]
        fn arbitrary_text_never_panics_and_rejections_explain(text in "\\PC{0,60}") {
            match text.parse::<DeviceId>() {
                Ok(id) => prop_assert_eq!(id.to_string(), text),
                Err(e) => prop_assert!(e.to_string().starts_with("device id")),
            }
        }

        #[test]
        fn a_corrupted_serial_is_refused(maker in "[a-zA-Z]{1,10}", serial in "[0-9]{1,10}", junk in "[-_!.* ]") {
            let id = DeviceId::new(&maker, &serial).unwrap();
            let corrupted = format!("{}{}", id, junk);
            let refused = matches!(
                DeviceId::parse_canonical(&corrupted),
                Err(DeviceIdError::InvalidBase64 { part: DeviceIdPart::Serial, .. })
            );
            prop_assert!(refused);
        }
    }
}

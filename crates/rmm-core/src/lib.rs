//! `rmm-core`: what a user or an agent can do with a Sharp printer fleet, and every rule that
//! goes with it. The CLI (`rmm`), the MCP endpoint (`rmm-mcp`) and the desktop app
//! (`src-tauri`) are faces over this crate: they translate their user's words into these
//! calls and the answers back, and carry no rule of their own.
//!
//! The public surface:
//!
//! - [`FleetOperations`]: the reads (devices, one device, summary, tenants, firmware files,
//!   the audit log) and the changes. A change goes through one path: a [`ChangeRequest`] (as
//!   asked, one of the [`ChangeKind`]s) is parsed by [`FleetOperations::check`] into a
//!   [`CheckedChange`] or into every [`Problem`] at once; [`FleetOperations::preview`] checks
//!   it against the cloud and shows what it will do ([`ChangePreview`], with a digest);
//!   [`FleetOperations::apply`] carries it out only with the digest of the preview the person
//!   saw, and records it in the [`AuditLog`] with who asked ([`Caller`]).
//! - [`OperationError`] / [`FailureKind`]: why an operation did not happen, sorted by what the
//!   caller can do about it; each face maps it to its own shape (exit code, MCP error, Tauri
//!   error).
//! - [`settings`]: profiles, the settings file, the old tool's environment variables, and
//!   [`connect_profile`] to turn a profile into operations; [`rollout`]: phased rollouts
//!   built on the same change path.
//! - One home for shared rules and defaults: time zones ([`parse_time_zone`]), the clock
//!   ([`Clock`], [`system_clock`]), the OTA window defaults, device and page limits.

// Phased firmware rollouts: plans, previews, the engine.
pub mod rollout;

// Profiles and settings: the settings file, the old environment variables, flags.
pub mod settings;

// Operations over the fleet: validation, previews, confirmation, the audit log.
mod audit;
mod caller;
mod change_preview;
mod change_requests;
mod checked_change;
mod device_query;
mod firmware_fit;
mod fleet_operations;
mod fleet_summary;
mod fleet_views;
mod operation_error;
mod problems;
mod profile_connection;
mod time_zone;

pub use audit::{AuditEntry, AuditError, AuditLog, AuditQuery, NewAuditEntry};
pub use caller::{Caller, TokenFacts};
pub use change_preview::{ChangePreview, DeviceChange, DeviceState, PreviewWarning, WarningKind};
pub use change_requests::{
    CancelReservations, ChangeKind, ChangeRequest, DEFAULT_OTA_END_HOUR, DEFAULT_OTA_START_HOUR,
    MAX_DEVICES_PER_CHANGE, ScheduleUpdate, SetOtaMode, local_minute_ms, local_time_to_unix_ms,
    parse_utc_offset,
};
pub use checked_change::{
    ChangeDetails, CheckedChange, CheckedOta, CheckedSchedule, OtaHour, OtaWindow, local_time_text,
    utc_time_text, zone_text,
};
pub use device_query::{DEFAULT_PAGE_SIZE, DeviceQuery, MAX_PAGE_SIZE};
pub use firmware_fit::{fits, model_key, models_of_file};
pub use fleet_operations::{
    AuthStatus, ChangeOutcomeKind, ChangeResult, Clock, DeviceListing, FirmwareListing,
    FleetOperations, FleetSnapshot, OperationSettings, system_clock, system_now_ms,
};
pub use fleet_summary::{Count, FirmwareStep, FleetSummary};
pub use fleet_views::{DeviceView, FirmwareFileView, ReservationTimes, TenantView};
pub use operation_error::{FailureKind, OperationError, SIGN_IN_INSTRUCTION};
pub use problems::{Hint, Problem, ProblemWords, Problems};
pub use profile_connection::{
    DEFAULT_TIME_ZONE, ProfileConnection, connect_profile, connect_profile_with_login,
    default_audit_path,
};
pub use time_zone::{TIME_ZONE_RULE, parse_time_zone, stored_time_zone};

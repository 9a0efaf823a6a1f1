//! Core.

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

pub use audit::{AuditEntry, AuditError, AuditLog, AuditQuery, NewAuditEntry};
pub use caller::{Caller, TokenFacts};
pub use change_preview::{ChangePreview, DeviceChange, DeviceState, PreviewWarning, WarningKind};
pub use change_requests::{
    CancelReservations, ChangeKind, ChangeRequest, DEFAULT_OTA_END_HOUR, DEFAULT_OTA_START_HOUR,
    DEFAULT_SCHEDULE_TIME_ZONE, MAX_DEVICES_PER_CHANGE, ScheduleUpdate, SetOtaMode,
    local_minute_ms, local_time_to_unix_ms, parse_utc_offset,
};
pub use checked_change::{
    ChangeDetails, CheckedChange, CheckedOta, CheckedSchedule, OtaHour, OtaWindow, local_time_text,
    zone_text,
};
pub use device_query::{DeviceQuery, MAX_PAGE_SIZE};
pub use firmware_fit::{fits, model_key, models_of_file};
pub use fleet_operations::{
    AuthStatus, ChangeOutcomeKind, ChangeResult, Clock, DeviceListing, FirmwareListing,
    FleetOperations, FleetSnapshot, OperationSettings, system_clock, system_now_ms,
};
pub use fleet_summary::{Count, FirmwareStep, FleetSummary};
pub use fleet_views::{DeviceView, FirmwareFileView, ReservationTimes, TenantView};
pub use operation_error::{FailureKind, OperationError, SIGN_IN_INSTRUCTION};
pub use problems::{Problem, Problems};
pub use profile_connection::{
    DEFAULT_TIME_ZONE, ProfileConnection, connect_profile, connect_profile_with_login,
    default_audit_path,
};

//! The Sharp RMM wire protocol: typed requests and responses for every endpoint, `DeviceId`,
//! and `ApiClient` (headers, origin guard, retries, token refresh on 401, change read-back,
//! whole-fleet fetch). It knows nothing of where tokens come from, files, or UI.

mod api_path;
mod change_outcome;
mod changes;
mod client;
mod config;
mod device;
mod device_id;
mod device_list;
mod error;
mod field_errors;
mod firmware;
mod fleet;
mod lenient;
mod retry;
mod tenant;
mod token;
mod wire_enum;

pub use api_path::{ApiPath, ApiPathError};
pub use change_outcome::{ChangeCheck, ChangeOutcome, DeviceCheck, DeviceVerdict};
pub use changes::{
    ChangeReceipt, DeviceSelection, OtaSettings, ReservationRemoval, UpdateReservation,
};
pub use client::{
    ApiClient, DEVICE_LIST_PATH, FIRMWARE_LIST_PATH, REMOVE_RESERVATION_PATH, SET_OTA_MODE_PATH,
    SET_RESERVATION_PATH, TENANTS_PATH,
};
pub use config::{ApiBaseUrl, ApiConfig, RetryPolicy, TimeZoneOffset};
pub use device::{ConnectionStatus, Device, OtaMode, OtaSettingStatus, Reservation, UpdateStatus};
pub use device_id::{DeviceId, DeviceIdError, DeviceIdPart, MAX_DEVICE_ID_LEN};
pub use device_list::{
    DeviceListRequest, DevicePage, FilterOperator, OrderBy, SimpleFilter, SortOrder,
    UnreadableDevice,
};
pub use error::{ApiError, FieldError, FieldErrors, RequestError, with_causes};
pub use firmware::{FirmwareFile, FirmwareFilePage, FirmwareListRequest, MAX_PAGE_COUNT};
pub use fleet::{Fleet, FleetProgress};
pub use reqwest::Method;
pub use secrecy::SecretString;
pub use tenant::{Tenant, TenantList};
pub use token::{BearerToken, InvalidToken, StaticToken, TokenSource, TokenSourceError};

//! Validating and applying the change operations: reservations and OTA settings.

use serde_json::Value;
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

use crate::device::{OtaMode, Reservation, UpdateStatus, is_well_formed_device_id};
use crate::fleet::Tenant;
use crate::modes::Modes;
use crate::problems::Problems;
use crate::world::World;

/// A transfer time may lie this far behind the simulated now (client clocks drift).
pub const PAST_GRACE_MS: i64 = 60_000;

/// What a change request is read with besides its body.
#[derive(Debug, Clone, Copy)]
pub struct ChangeContext {
    /// Simulated now, Unix ms.
    pub now: i64,
    pub modes: Modes,
    /// The request's `x-time-zone` as an offset in seconds, when sent and readable.
    pub header_offset: Option<i32>,
}

/// Resolves `deviceIds` + `isExclude` to device indices, noting every bad id.
fn select_devices(
    tenant: &Tenant,
    body: &Value,
    modes: &Modes,
    problems: &mut Problems,
) -> Vec<usize> {
    let exclude = problems.flag(body, "isExclude");
    let mut listed = Vec::new();
    match body.get("deviceIds") {
        Some(Value::Array(ids)) => {
            for (i, id) in ids.iter().enumerate() {
                let field = format!("deviceIds[{i}]");
                let Some(text) = id.as_str() else {
                    problems.add(
                        "INVALID_DEVICE_ID",
                        field,
                        "device id must look like mn=<base64>:sn=<base64>",
                    );
                    continue;
                };
                match tenant.lookup(text, modes) {
                    Some(n) => listed.push(n),
                    None if is_well_formed_device_id(text) => problems.add(
                        "DEVICE_NOT_FOUND",
                        field,
                        format!("no device {text} in this group"),
                    ),
                    None => problems.add(
                        "INVALID_DEVICE_ID",
                        field,
                        "device id must look like mn=<base64>:sn=<base64>",
                    ),
                }
            }
            if ids.is_empty() && !exclude {
                problems.add(
                    "EMPTY_DEVICE_LIST",
                    "deviceIds",
                    "deviceIds must list at least one device",
                );
            }
        }
        None | Some(Value::Null) if exclude => {}
        None | Some(Value::Null) => problems.add(
            "EMPTY_DEVICE_LIST",
            "deviceIds",
            "deviceIds must list at least one device",
        ),
        Some(_) => problems.add(
            "INVALID_REQUEST",
            "deviceIds",
            "deviceIds must be an array of strings",
        ),
    }
    listed.sort_unstable();
    listed.dedup();
    if !exclude {
        return listed;
    }
    let chosen: Vec<usize> = (0..tenant.devices.len())
        .filter(|i| listed.binary_search(i).is_err())
        .collect();
    if chosen.is_empty() {
        problems.add(
            "EMPTY_DEVICE_LIST",
            "deviceIds",
            "isExclude leaves no device selected",
        );
    }
    chosen
}

/// `UTC+05:30` → offset in seconds.
pub fn parse_time_zone(text: &str) -> Option<i32> {
    let rest = text.strip_prefix("UTC")?;
    let sign = match rest.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = rest.get(1..)?.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours <= 14 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
}

/// An `x-time-zone` header: `+05:30` (as the dashboard sends it) or `UTC+05:30`.
pub fn parse_header_zone(text: &str) -> Option<i32> {
    let text = text.trim();
    if text.starts_with("UTC") {
        parse_time_zone(text)
    } else {
        parse_time_zone(&format!("UTC{text}"))
    }
}

/// `YYYYMMDDHHMM` local to `offset_secs` → Unix ms.
pub fn parse_execute_time(text: &str, offset_secs: i32) -> Option<i64> {
    let local = parse_local_datetime(text)?;
    let offset = UtcOffset::from_whole_seconds(offset_secs).ok()?;
    Some(local.assume_offset(offset).unix_timestamp() * 1000)
}

fn parse_local_datetime(text: &str) -> Option<PrimitiveDateTime> {
    if text.len() != 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<u16>().ok();
    let month = Month::try_from(u8::try_from(num(4..6)?).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::from(num(0..4)?), month, u8::try_from(num(6..8)?).ok()?)
            .ok()?;
    let time = Time::from_hms(
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(10..12)?).ok()?,
        0,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time))
}

/// `setUpdateReservation`: every problem listed, nothing applied unless all is well.
pub fn set_reservation(
    world: &mut World,
    t: usize,
    body: &Value,
    context: &ChangeContext,
) -> Result<usize, Problems> {
    let now = context.now;
    world.settle(t, now);
    let mut problems = Problems::default();
    let Some(tenant) = world.tenants.get(t) else {
        return Ok(0);
    };
    let targets = select_devices(tenant, body, &context.modes, &mut problems);
    let file = match problems.text(body, "fileId", "FILE_NOT_FOUND") {
        Some(id) => match tenant.file(id) {
            Some(file) => Some(file.clone()),
            None => {
                problems.add(
                    "FILE_NOT_FOUND",
                    "fileId",
                    format!("no firmware file {id} in this group"),
                );
                None
            }
        },
        None => None,
    };
    let transfer_ms = match body.get("fileTransferTimestamp").and_then(Value::as_i64) {
        Some(ms) if ms >= 0 => {
            if ms < now - PAST_GRACE_MS {
                problems.add(
                    "PAST_TIMESTAMP",
                    "fileTransferTimestamp",
                    format!("fileTransferTimestamp {ms} is in the past (now {now})"),
                );
            }
            Some(ms)
        }
        _ => {
            problems.add(
                "INVALID_TIMESTAMP",
                "fileTransferTimestamp",
                "fileTransferTimestamp must be Unix milliseconds (a whole number >= 0)",
            );
            None
        }
    };
    let time_zone = body.get("fileTransferTimeZone").and_then(Value::as_str);
    let offset = time_zone.and_then(parse_time_zone);
    if offset.is_none() {
        problems.add(
            "INVALID_TIMEZONE",
            "fileTransferTimeZone",
            "fileTransferTimeZone must look like UTC+05:30",
        );
    }
    let execute = body.get("executeUpdateDateTime").and_then(Value::as_str);
    let local = execute.and_then(parse_local_datetime);
    if local.is_none() {
        problems.add(
            "INVALID_DATETIME",
            "executeUpdateDateTime",
            "executeUpdateDateTime must be a valid YYYYMMDDHHMM",
        );
    }
    // In `time-zone-header` mode the header, when sent, decides the execute time's zone.
    let execute_offset = match context.header_offset {
        Some(header) if context.modes.time_zone_header => Some(header),
        _ => offset,
    };
    let execute_ms = match (execute, execute_offset) {
        (Some(text), Some(offset)) => parse_execute_time(text, offset),
        _ => None,
    };
    // The execute time has minute precision: the transfer's own minute is allowed.
    if let (Some(exec), Some(transfer)) = (execute_ms, transfer_ms)
        && exec < transfer - transfer.rem_euclid(60_000)
    {
        problems.add(
            "EXECUTE_BEFORE_TRANSFER",
            "executeUpdateDateTime",
            "executeUpdateDateTime must not be before fileTransferTimestamp",
        );
    }
    let (Some(file), Some(transfer_ms), Some(time_zone), Some(execute), Some(execute_ms), true) = (
        file,
        transfer_ms,
        time_zone,
        execute,
        execute_ms,
        problems.is_empty(),
    ) else {
        return Err(problems);
    };
    for &i in &targets {
        let will_fail = world.draw_failure();
        let model = world
            .tenants
            .get(t)
            .and_then(|t| t.devices.get(i))
            .map_or("", |d| d.model);
        let fate = world.draw_fate(&file.file_id, model, will_fail);
        let Some(device) = world.tenants.get_mut(t).and_then(|t| t.devices.get_mut(i)) else {
            continue;
        };
        let record = crate::rollout_faults::ReservationRecord {
            // As the API shows the device (in `odd-device-ids` mode, its odd id).
            device_id: device.shown_id(&context.modes).to_owned(),
            file_id: file.file_id.clone(),
            at_ms: now,
            execute_ms,
            time_zone: time_zone.to_string(),
            fate,
        };
        device.reservation = Some(Reservation {
            file_id: file.file_id.clone(),
            transfer_ms,
            time_zone: time_zone.to_string(),
            execute: execute.to_string(),
            execute_ms,
            installs: (file.model == device.model).then_some(file.version),
            will_fail,
            fate,
        });
        device.update_status = UpdateStatus::Reserved;
        world.reservation_log.push(record);
        if let Some(active) = world.active.get_mut(t) {
            active.insert(i);
        }
    }
    world.settle(t, now);
    Ok(targets.len())
}

/// `removeUpdateReservation`: the count is of devices that had a reservation.
pub fn remove_reservation(
    world: &mut World,
    t: usize,
    body: &Value,
    context: &ChangeContext,
) -> Result<usize, Problems> {
    world.settle(t, context.now);
    let mut problems = Problems::default();
    let Some(tenant) = world.tenants.get_mut(t) else {
        return Ok(0);
    };
    let targets = select_devices(tenant, body, &context.modes, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut removed = 0;
    for i in targets {
        if let Some(device) = tenant.devices.get_mut(i)
            && device.reservation.take().is_some()
        {
            device.update_status = UpdateStatus::None;
            removed += 1;
            if let Some(active) = world.active.get_mut(t) {
                active.remove(&i);
            }
        }
    }
    Ok(removed)
}

fn hour(body: &Value, field: &str, problems: &mut Problems) -> Option<i8> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_i64() {
            Some(h) if (-1..=23).contains(&h) => i8::try_from(h).ok(),
            _ => {
                problems.add(
                    "INVALID_HOUR",
                    field,
                    format!("{field} must be -1 (any time) or an hour 0-23"),
                );
                None
            }
        },
    }
}

/// `setOTAMode`.
pub fn set_ota_mode(
    world: &mut World,
    t: usize,
    body: &Value,
    context: &ChangeContext,
) -> Result<usize, Problems> {
    let now = context.now;
    world.settle(t, now);
    let mut problems = Problems::default();
    let Some(tenant) = world.tenants.get_mut(t) else {
        return Ok(0);
    };
    let targets = select_devices(tenant, body, &context.modes, &mut problems);
    let mode = body
        .get("otaMode")
        .and_then(Value::as_str)
        .and_then(OtaMode::parse);
    if mode.is_none() {
        problems.add(
            "INVALID_OTA_MODE",
            "otaMode",
            "otaMode must be \"auto\", \"confirmation\" or \"off\"",
        );
    }
    let start = hour(body, "otaStartHour", &mut problems);
    let end = hour(body, "otaEndHour", &mut problems);
    if let (Some(OtaMode::Auto), Some(s), Some(e)) = (mode, start, end)
        && s >= 0
        && e >= 0
        && s >= e
    {
        problems.add(
            "INVALID_HOUR_RANGE",
            "otaStartHour",
            format!("otaStartHour ({s}) must be before otaEndHour ({e}) for auto"),
        );
    }
    let Some(mode) = mode.filter(|_| problems.is_empty()) else {
        return Err(problems);
    };
    for &i in &targets {
        if let Some(device) = tenant.devices.get_mut(i) {
            device.ota_mode = mode;
            if let Some(s) = start {
                device.ota_start = s;
            }
            if let Some(e) = end {
                device.ota_end = e;
            }
            device.ota_changed_at = Some(now);
        }
    }
    Ok(targets.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones() {
        assert_eq!(parse_time_zone("UTC+05:30"), Some(19_800));
        assert_eq!(parse_time_zone("UTC-08:00"), Some(-28_800));
        assert_eq!(parse_time_zone("UTC+5:30"), None);
        assert_eq!(parse_time_zone("+05:30"), None);
        assert_eq!(parse_time_zone("UTC+15:00"), None);
        assert_eq!(parse_header_zone("+05:30"), Some(19_800));
        assert_eq!(parse_header_zone("UTC-08:00"), Some(-28_800));
        assert_eq!(parse_header_zone("05:30"), None);
    }

    #[test]
    fn execute_times_are_local_to_the_zone() {
        // 2025-08-11 14:00 at +05:30 is 08:30 UTC.
        assert_eq!(
            parse_execute_time("202508111400", 19_800),
            Some(1_754_901_000_000)
        );
        assert_eq!(parse_execute_time("202502301400", 0), None);
        assert_eq!(parse_execute_time("2025081114", 0), None);
    }
}

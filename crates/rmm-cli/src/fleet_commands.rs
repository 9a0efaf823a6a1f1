//! `rmm devices | summary | firmware | schedule | cancel | ota | audit`: the fleet for people
//! (tables, a progress bar while a whole fleet loads) and for scripts (`--json`). Changes show
//! rmm-core's preview and ask, or take `--yes`. Every rule lives in `rmm-core`; this only
//! translates between the terminal and the operations.

use std::io::{BufRead, IsTerminal, Write};

use clap::{Args, Subcommand};
use rmm_api::FleetProgress;
use rmm_core::{
    AuditQuery, CancelReservations, ChangeOutcomeKind, ChangePreview, ChangeRequest, ChangeResult,
    CheckedChange, DeviceQuery, DeviceView, FleetOperations, OperationError, Problems,
    ScheduleUpdate, SetOtaMode, local_minute_ms, local_time_to_unix_ms, system_now_ms,
};
use serde::Serialize;

use crate::auth_commands::StoreArgs;
use crate::fleet_connection::{cli_user, connect, failure, resolve};
use crate::problem_words::Command;
use crate::{Failure, GlobalArgs};

/// Reading and changing the fleet.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// List devices: one page, or the whole fleet with --all.
    Devices(DevicesArgs),
    /// The whole fleet in counts: by model, firmware step, update status and OTA mode.
    Summary(GroupArgs),
    /// The firmware files staged for the group, with the models each fits.
    Firmware(FirmwareArgs),
    /// Schedule a firmware update on devices (shows the preview and asks first).
    Schedule(ScheduleArgs),
    /// Cancel devices' scheduled updates (shows the preview and asks first).
    Cancel(CancelArgs),
    /// Set devices' OTA mode and update window (shows the preview and asks first).
    Ota(OtaArgs),
    /// The audit log of changes, newest first.
    Audit(AuditArgs),
}

/// Options of every fleet command.
#[derive(Debug, Clone, Args)]
pub struct GroupArgs {
    /// The group (tenant) id; default: your token's tenant.
    #[arg(long, value_name = "ID")]
    pub group: Option<String>,
    /// JSON on stdout, for scripts.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rmm devices`.
#[derive(Debug, Clone, Args)]
pub struct DevicesArgs {
    /// Only devices with newer firmware on offer.
    #[arg(long)]
    pub needs_update: bool,
    /// Only this model, e.g. MX-3071.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Only this OTA mode: auto, confirmation or off.
    #[arg(long, value_name = "MODE")]
    pub ota_mode: Option<String>,
    /// Only this update status: none, reserved, downloading, downloaded, updating, completed, failed.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Text searched in name, model, serial and IP.
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,
    /// The whole fleet, every page.
    #[arg(long)]
    pub all: bool,
    /// Devices per page (1-100).
    #[arg(long, default_value_t = rmm_core::DEFAULT_PAGE_SIZE, allow_negative_numbers = true)]
    pub page_size: i64,
    /// The first device of the page (0-based).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub start: i64,
    #[command(flatten)]
    pub common: GroupArgs,
}

/// `rmm firmware`.
#[derive(Debug, Clone, Args)]
pub struct FirmwareArgs {
    /// The first file (0-based).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub start: i64,
    /// Files per page (1-100).
    #[arg(long, default_value_t = 100, allow_negative_numbers = true)]
    pub count: i64,
    #[command(flatten)]
    pub common: GroupArgs,
}

/// Options of every change.
#[derive(Debug, Clone, Args)]
pub struct ChangeArgs {
    /// The devices (`mn=...:sn=...`, as `rmm devices` shows them).
    #[arg(value_name = "DEVICE_ID", required = true)]
    pub device_ids: Vec<String>,
    /// Carry it out without asking (the preview is still shown).
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[command(flatten)]
    pub common: GroupArgs,
}

/// `rmm schedule`.
#[derive(Debug, Clone, Args)]
pub struct ScheduleArgs {
    /// The staged firmware file's id (see `rmm firmware`).
    #[arg(long, value_name = "FILE_ID")]
    pub file: String,
    /// When the file is sent: YYYYMMDDHHMM in --timezone; must be in the future.
    #[arg(long, value_name = "YYYYMMDDHHMM")]
    pub transfer: String,
    /// When the update runs: YYYYMMDDHHMM in --timezone; not before the transfer.
    #[arg(long, value_name = "YYYYMMDDHHMM")]
    pub execute: String,
    /// The devices' time zone, UTC±hh:mm [default: the profile's time zone, UTC+05:30 unless
    /// it sets one].
    #[arg(long, value_name = "UTC±hh:mm")]
    pub timezone: Option<String>,
    /// Go ahead although the file names another model than a device's (shown in the preview
    /// and the audit log).
    #[arg(long)]
    pub allow_other_model: bool,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// `rmm cancel`.
#[derive(Debug, Clone, Args)]
pub struct CancelArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// `rmm ota`.
#[derive(Debug, Clone, Args)]
pub struct OtaArgs {
    /// auto, confirmation or off.
    #[arg(long, value_name = "MODE")]
    pub mode: String,
    /// First hour of the update window, 0-23 or -1 for any time.
    #[arg(long, default_value_t = rmm_core::DEFAULT_OTA_START_HOUR, allow_negative_numbers = true)]
    pub start: i64,
    /// Last hour of the update window, 0-23 or -1 for any time.
    #[arg(long, default_value_t = rmm_core::DEFAULT_OTA_END_HOUR, allow_negative_numbers = true)]
    pub end: i64,
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// `rmm audit`.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Only changes touching this device.
    #[arg(long, value_name = "DEVICE_ID")]
    pub device: Option<String>,
    /// Only changes of the last N hours.
    #[arg(long, value_name = "N")]
    pub since_hours: Option<u32>,
    /// Only changes asked for by this caller: person, cli_user, mcp_client, or part of a name.
    #[arg(long, value_name = "WHO")]
    pub caller: Option<String>,
    /// At most this many entries.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// JSON on stdout, for scripts.
    #[arg(long)]
    pub json: bool,
}

/// Runs one of the commands.
pub async fn run(cmd: FleetCommand, global: &GlobalArgs) -> Result<(), Failure> {
    match cmd {
        FleetCommand::Devices(args) => devices(&args, global).await,
        FleetCommand::Summary(args) => summary(&args, global).await,
        FleetCommand::Firmware(args) => firmware(&args, global).await,
        FleetCommand::Schedule(args) => {
            let zone = match &args.timezone {
                Some(zone) => zone.trim().to_owned(),
                None => format!(
                    "UTC{}",
                    resolve(global, &args.change.common.store)?.time_zone()
                ),
            };
            let (request, unreadable) = schedule_request(&args, zone);
            change(request, unreadable, &args.change, global).await
        }
        FleetCommand::Cancel(args) => {
            let request = ChangeRequest::CancelScheduledUpdate(CancelReservations {
                device_ids: args.change.device_ids.clone(),
                group_id: args.change.common.group.clone(),
            });
            change(request, Problems::new(), &args.change, global).await
        }
        FleetCommand::Ota(args) => {
            let request = ChangeRequest::ConfigureOtaMode(SetOtaMode {
                device_ids: args.change.device_ids.clone(),
                ota_mode: args.mode.clone(),
                start_hour: args.start,
                end_hour: args.end,
                group_id: args.change.common.group.clone(),
            });
            change(request, Problems::new(), &args.change, global).await
        }
        FleetCommand::Audit(args) => audit(&args).await,
    }
}

fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::Local(format!("cannot write JSON: {e}")))?;
    out!("{text}");
    Ok(())
}

/// A one-line progress bar on stderr while pages load, only when stderr is a terminal.
struct ProgressBar {
    shown: bool,
}

impl ProgressBar {
    fn new() -> Self {
        Self { shown: false }
    }

    fn page(&mut self, p: &FleetProgress) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let total = p.total_count.max(1);
        let done = u64::try_from(p.devices_done).unwrap_or(u64::MAX);
        let filled = usize::try_from(done.min(total) * 30 / total).unwrap_or(30);
        eprint!(
            "\r[{}{}] {}/{} devices",
            "#".repeat(filled),
            " ".repeat(30 - filled),
            p.devices_done,
            p.total_count
        );
        let _ = std::io::stderr().flush();
        self.shown = true;
    }

    fn done(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

/// Columns padded to their widest cell.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn device_rows(devices: &[DeviceView]) -> Vec<Vec<String>> {
    devices
        .iter()
        .map(|d| {
            vec![
                d.model.clone(),
                d.name.clone(),
                d.firmware.clone(),
                d.latest.clone().unwrap_or_else(|| "-".to_owned()),
                d.update_status.clone(),
                // "auto 2-4", and "(setting pending)" while the last OTA setting has not
                // reached the device.
                format!(
                    "{} {}{}",
                    d.ota_mode,
                    d.ota_window.as_deref().unwrap_or_default(),
                    match d.ota_setting.as_str() {
                        "applied" => String::new(),
                        other => format!(" (setting {other})"),
                    }
                )
                .trim()
                .to_owned(),
                d.connection.clone(),
                d.device_id.clone(),
            ]
        })
        .collect()
}

const DEVICE_HEADERS: [&str; 8] = [
    "MODEL",
    "NAME",
    "FIRMWARE",
    "LATEST",
    "STATUS",
    "OTA",
    "CONNECTION",
    "DEVICE ID",
];

async fn devices(args: &DevicesArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let query = DeviceQuery {
        group_id: args.common.group.clone(),
        needs_update: args.needs_update.then_some(true),
        model: args.model.clone(),
        ota_mode: args.ota_mode.clone(),
        update_status: args.status.clone(),
        text: args.search.clone(),
        start_index: args.start,
        page_size: args.page_size,
    };
    // Bad flags are reported before any sign-in is needed.
    query
        .validate(args.all)
        .into_result()
        .map_err(|p| bad_input(Command::Devices, &p))?;
    let ops = connect(global, &args.common.store).await?.operations;
    let listing = if args.all {
        let mut bar = ProgressBar::new();
        let listing = ops.all_devices(&query, &mut |p| bar.page(p)).await;
        bar.done();
        listing
    } else {
        ops.devices(&query).await
    }
    .map_err(failure)?;
    if args.common.json {
        return print_json(&listing);
    }
    out!("{}", table(&DEVICE_HEADERS, &device_rows(&listing.devices)));
    let last = listing.start_index + listing.returned;
    out!(
        "\n{} of {} devices shown ({}-{}); {} of them need an update. Group {}.",
        listing.returned,
        listing.total_devices,
        if listing.returned == 0 {
            0
        } else {
            listing.start_index + 1
        },
        last,
        listing.needing_update,
        listing.group_id
    );
    if !args.all && last < listing.total_devices {
        out!("More: --start {last}, or --all for the whole fleet.");
    }
    Ok(())
}

fn bad_input(command: Command, problems: &Problems) -> Failure {
    Failure::BadInput(command.render(problems))
}

/// `failure`, with the problems of bad input in the command's words.
fn failure_of(command: Command, error: OperationError) -> Failure {
    match error {
        OperationError::Invalid(problems) => bad_input(command, &problems),
        other => failure(other),
    }
}

async fn summary(args: &GroupArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let ops = connect(global, &args.store).await?.operations;
    let mut bar = ProgressBar::new();
    let summary = ops
        .summary(args.group.as_deref(), &mut |p| bar.page(p))
        .await;
    bar.done();
    let summary = summary.map_err(failure)?;
    if args.json {
        return print_json(&summary);
    }
    out!(
        "Group {}: {} devices, {} need an update, {} offline.",
        summary.group_id,
        summary.total_devices,
        summary.needs_update,
        summary.offline
    );
    let counts = |title: &str, counts: &[rmm_core::Count]| {
        let rows: Vec<Vec<String>> = counts
            .iter()
            .map(|c| vec![c.value.clone(), c.devices.to_string()])
            .collect();
        out!("\n{}", table(&[title, "DEVICES"], &rows));
    };
    counts("MODEL", &summary.by_model);
    let steps: Vec<Vec<String>> = summary
        .by_firmware
        .iter()
        .map(|s| {
            vec![
                s.model.clone(),
                s.from.clone(),
                s.to.clone(),
                s.devices.to_string(),
            ]
        })
        .collect();
    out!(
        "\n{}",
        table(&["MODEL", "FIRMWARE", "LATEST", "DEVICES"], &steps)
    );
    counts("UPDATE STATUS", &summary.by_update_status);
    counts("OTA MODE", &summary.by_ota_mode);
    Ok(())
}

async fn firmware(args: &FirmwareArgs, global: &GlobalArgs) -> Result<(), Failure> {
    let ops = connect(global, &args.common.store).await?.operations;
    let listing = ops
        .firmware_files(args.common.group.as_deref(), args.start, args.count)
        .await
        .map_err(failure)?;
    if args.common.json {
        return print_json(&listing);
    }
    let rows: Vec<Vec<String>> = listing
        .files
        .iter()
        .map(|f| {
            vec![
                f.file_id.clone(),
                f.title.clone(),
                f.file_name.clone(),
                if f.fits_models.is_empty() {
                    "?".to_owned()
                } else {
                    f.fits_models.join(", ")
                },
            ]
        })
        .collect();
    out!(
        "{}",
        table(&["FILE ID", "TITLE", "FILE NAME", "FITS"], &rows)
    );
    out!(
        "\n{} of {} files; group {}.",
        listing.files.len(),
        listing.total_files,
        listing.group_id
    );
    Ok(())
}

/// The schedule asked for on the command line, and the flags that could not be read.
fn schedule_request(args: &ScheduleArgs, timezone: String) -> (ChangeRequest, Problems) {
    let transfer_text = args.transfer.trim();
    let written_well = local_minute_ms(transfer_text).is_some();
    // With a zone core cannot read, the transfer cannot be placed in time: core reports the
    // zone, and the transfer (if written well) is not judged against a guessed instant.
    let transfer = local_time_to_unix_ms(transfer_text, &timezone).unwrap_or(i64::MAX);
    let request = ChangeRequest::ScheduleFirmwareUpdate(ScheduleUpdate {
        device_ids: args.change.device_ids.clone(),
        firmware_file_id: args.file.clone(),
        transfer_datetime: transfer,
        execute_datetime: args.execute.trim().to_owned(),
        timezone,
        group_id: args.change.common.group.clone(),
        allow_other_model: args.allow_other_model,
    });
    let mut unreadable = Problems::new();
    if !written_well {
        // Reported instead of core's reading of the placeholder.
        unreadable.push(
            "transfer_datetime",
            format!(
                "must be a real date and time written YYYYMMDDHHMM, e.g. 203001311400, in --timezone; got {:?}",
                args.transfer
            ),
        );
    }
    (request, unreadable)
}

/// Validate and preview, show it, ask (or take `--yes`), carry it out.
async fn change(
    request: ChangeRequest,
    unreadable: Problems,
    args: &ChangeArgs,
    global: &GlobalArgs,
) -> Result<(), Failure> {
    // Input problems come at once, before any sign-in or cloud call.
    let command = Command::Change(request.kind());
    let checked = request
        .check_beside(system_now_ms(), unreadable)
        .map_err(|p| bad_input(command, &p))?;
    let ops = connect(global, &args.common.store).await?.operations;
    let preview = ops
        .preview(&checked)
        .await
        .map_err(|e| failure_of(command, e))?;
    let json = args.common.json;
    if json {
        // stdout carries one JSON document at the end; the preview goes to stderr.
        eprintln!("{}", preview_text(&preview));
    } else {
        out!("{}", preview_text(&preview));
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::NotDone(
                "nothing was changed: no terminal to ask for confirmation; check the preview and run again with --yes".to_owned(),
            ));
        }
        if !ask("Carry out this change? [y/N] ")? {
            return Err(Failure::NotDone(
                "nothing was changed: not confirmed".to_owned(),
            ));
        }
    }
    let result = apply(&ops, &checked, &preview).await?;
    if json {
        return print_json(&serde_json::json!({"preview": preview, "result": result}));
    }
    out!(
        "Done: {} ({}); {} device(s){}; audit entry {}.",
        result.action,
        result.outcome,
        result.devices,
        result
            .affected_count
            .map(|n| format!(", {n} affected"))
            .unwrap_or_default(),
        result.audit_id
    );
    if result.took_effect != Some(true) && result.outcome != ChangeOutcomeKind::Confirmed {
        out!("The cloud's answer was lost; the devices were read back: see `rmm audit --json`.");
    }
    Ok(())
}

async fn apply(
    ops: &FleetOperations,
    change: &CheckedChange,
    preview: &ChangePreview,
) -> Result<ChangeResult, Failure> {
    ops.apply(change, &preview.digest, &cli_user())
        .await
        .map_err(|e| match e {
            OperationError::PreviewChanged(new) => Failure::NotDone(format!(
                "nothing was changed: the devices changed since the preview. The new preview:\n{}\nRun the command again to confirm it.",
                preview_text(&new)
            )),
            other => failure(other),
        })
}

fn preview_text(preview: &ChangePreview) -> String {
    let rows: Vec<Vec<String>> = preview
        .devices
        .iter()
        .map(|d| {
            vec![
                d.model.clone(),
                d.name.clone(),
                d.current.firmware.clone(),
                d.current.update_status.clone(),
                d.current.connection.clone(),
                d.change.clone(),
                d.device_id.clone(),
            ]
        })
        .collect();
    let mut out = format!(
        "{}\n\n{}",
        preview.summary,
        table(
            &[
                "MODEL",
                "NAME",
                "FIRMWARE",
                "STATUS",
                "CONNECTION",
                "CHANGE",
                "DEVICE ID"
            ],
            &rows
        )
    );
    if !preview.warnings.is_empty() {
        out.push_str("\n\nWarnings:");
        for w in &preview.warnings {
            out.push_str(&format!("\n! {}", w.message));
        }
    }
    out
}

fn ask(question: &str) -> Result<bool, Failure> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Local(format!("cannot read the answer: {e}")))?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

async fn audit(args: &AuditArgs) -> Result<(), Failure> {
    let query = AuditQuery {
        since_ms: args
            .since_hours
            .map(|h| system_now_ms() - i64::from(h) * 3_600_000),
        until_ms: None,
        device_id: args.device.clone(),
        limit: Some(args.limit),
        caller: args.caller.clone(),
    };
    let entries = tokio::task::spawn_blocking(move || {
        let log = rmm_core::AuditLog::open(&rmm_core::default_audit_path()?)?;
        Ok::<_, rmm_core::OperationError>(log.query(&query)?)
    })
    .await
    .map_err(|_| Failure::Local("the audit task failed".to_owned()))?
    .map_err(failure)?;
    if args.json {
        return print_json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                rmm_core::utc_time_text(e.at_ms),
                format!("{} {}", e.caller.kind(), e.caller.name()),
                e.account.clone().unwrap_or_else(|| "-".to_owned()),
                e.action.clone(),
                e.device_ids.len().to_string(),
                if e.succeeded { "yes" } else { "no" }.to_owned(),
                // The tenant's name when the cloud gave one, else its id.
                e.group_name.clone().unwrap_or_else(|| e.group_id.clone()),
            ]
        })
        .collect();
    out!(
        "{}",
        table(
            &[
                "ID",
                "WHEN (UTC)",
                "WHO",
                "ACCOUNT",
                "ACTION",
                "DEVICES",
                "OK",
                "GROUP"
            ],
            &rows
        )
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_tables_read_right() {
        let t = table(&["A", "BB"], &[vec!["long cell".into(), "x".into()]]);
        assert_eq!(t, "A          BB\nlong cell  x");
    }
}

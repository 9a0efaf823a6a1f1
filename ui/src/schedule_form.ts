// The "Schedule update" form: which staged firmware file (files fitting every selected model
// first), when to transfer it, when to install it, in which time zone. The fit rule and every
// other check stay in rmm-core; this only orders the list and converts what was typed.
import { firmwareFiles, type ChangeRequest, type DeviceView, type FirmwareFileView } from "./backend";
import { deviceListLine, deviceName, type ChangeForm } from "./change_form";
import { el, errorText, labelled } from "./dom";
import { ProblemSlots } from "./form_problems";
import { executeStamp, parseOffset, systemOffsetText, wallClockToUnixMs } from "./time_zone";

export const SCHEDULE_FIELDS = ["firmware_file_id", "transfer_datetime", "execute_datetime", "timezone"] as const;

/** Files fitting every model of `models` (compared case-insensitively), and the others. */
export function fileGroups(
  files: FirmwareFileView[],
  models: string[],
): { fits: FirmwareFileView[]; other: FirmwareFileView[] } {
  const wanted = [...new Set(models.map((m) => m.toLowerCase()))];
  const fits: FirmwareFileView[] = [];
  const other: FirmwareFileView[] = [];
  for (const f of files) {
    const fitsModels = new Set(f.fits_models.map((m) => m.toLowerCase()));
    (wanted.length > 0 && wanted.every((m) => fitsModels.has(m)) ? fits : other).push(f);
  }
  return { fits, other };
}

export interface ScheduleValues {
  fileId: string;
  transfer: string;
  execute: string;
  timezone: string;
  /** Go ahead although the file names another model (rmm-core refuses it otherwise). */
  allowOtherModel?: boolean;
}

/**
 * The request of these values: the transfer time as Unix ms of the wall-clock time in the
 * given offset, the execute time as typed ("YYYYMMDDHHMM", local to that zone). A time zone
 * that is not UTC±hh:mm is sent as typed for rmm-core to reject; the transfer time is then read
 * as UTC, since there is no offset to read it in.
 */
export function scheduleRequest(values: ScheduleValues, deviceIds: string[]): ChangeRequest {
  const offset = parseOffset(values.timezone) ?? 0;
  return {
    action: "schedule_firmware_update",
    device_ids: deviceIds,
    firmware_file_id: values.fileId,
    transfer_datetime: wallClockToUnixMs(values.transfer, offset),
    execute_datetime: executeStamp(values.execute),
    timezone: values.timezone,
    group_id: null,
    allow_other_model: values.allowOtherModel ?? false,
  };
}

function fileOption(f: FirmwareFileView): HTMLOptionElement {
  const o = el("option", undefined, `${f.title} (${f.file_name})`);
  o.value = f.file_id;
  return o;
}

export function fillFileSelect(select: HTMLSelectElement, files: FirmwareFileView[], models: string[]): void {
  const kept = select.value;
  const { fits, other } = fileGroups(files, models);
  const placeholder = el("option", undefined, files.length === 0 ? "No staged files" : "Choose a file…");
  placeholder.value = "";
  const parts: HTMLElement[] = [placeholder];
  for (const [label, list] of [
    ["fits", fits],
    ["other models", other],
  ] as const) {
    if (list.length === 0) continue;
    const group = el("optgroup");
    group.label = label;
    group.dataset.group = label;
    group.append(...list.map(fileOption));
    parts.push(group);
  }
  select.replaceChildren(...parts);
  select.value = files.some((f) => f.file_id === kept) ? kept : "";
}

/** `YYYY-MM-DDTHH:MM`, local wall-clock time, as a datetime-local input holds it. */
function localInputText(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * The times a new schedule starts from, which a person can keep: the file sent at the next full
 * hour at least an hour away, the update at the next 02:00 at least an hour after that (printers
 * are idle at night).
 */
export function defaultTimes(now: Date): { transfer: string; execute: string } {
  const transfer = new Date(now.getTime());
  transfer.setMinutes(0, 0, 0);
  transfer.setHours(transfer.getHours() + 2);
  const execute = new Date(transfer.getTime() + 3600_000);
  if (execute.getHours() > 2 || (execute.getHours() === 2 && execute.getMinutes() > 0)) execute.setDate(execute.getDate() + 1);
  execute.setHours(2, 0, 0, 0);
  return { transfer: localInputText(transfer), execute: localInputText(execute) };
}

export interface ScheduleForm extends ChangeForm {
  /** Resolves once the file list is in (or failed to load). */
  ready: Promise<void>;
}

export function createScheduleForm(devices: DeviceView[], now: Date = new Date()): ScheduleForm {
  const problems = new ProblemSlots(SCHEDULE_FIELDS);
  const form = el("form", "schedule-form", undefined, "change-form");
  form.noValidate = true;

  const file = el("select", "schedule-file");
  file.id = "schedule-file";
  file.append(el("option", undefined, "Loading files…"));
  const filesError = el("p", "schedule-files-error", undefined, "error");
  filesError.hidden = true;

  const transfer = el("input", "schedule-transfer");
  transfer.type = "datetime-local";
  transfer.id = "schedule-transfer";
  const execute = el("input", "schedule-execute");
  execute.type = "datetime-local";
  execute.id = "schedule-execute";
  const times = defaultTimes(now);
  transfer.value = times.transfer;
  execute.value = times.execute;
  const timezone = el("input", "schedule-timezone");
  timezone.type = "text";
  timezone.id = "schedule-timezone";
  timezone.value = systemOffsetText(now);
  timezone.placeholder = "UTC+01:00";
  const allowOther = el("input", "schedule-allow-other-model");
  allowOther.type = "checkbox";
  const allowOtherLabel = el("label", undefined, undefined, "checkbox-field");
  allowOtherLabel.append(allowOther, el("span", undefined, "Allow a file made for another model"));

  const described = (input: HTMLElement, field: string) =>
    input.setAttribute("aria-describedby", `problem-${field}`);
  described(file, "firmware_file_id");
  described(transfer, "transfer_datetime");
  described(execute, "execute_datetime");
  described(timezone, "timezone");

  form.append(
    deviceListLine(devices),
    problems.general,
    labelled("Firmware file", file, problems.slot("firmware_file_id")),
    filesError,
    labelled("Transfer at", transfer, problems.slot("transfer_datetime")),
    labelled("Install at", execute, problems.slot("execute_datetime")),
    labelled("Time zone", timezone, problems.slot("timezone")),
    allowOtherLabel,
  );

  const models = devices.map((d) => d.model);
  const ready = firmwareFiles()
    .then((listing) => fillFileSelect(file, listing.files, models))
    .catch((err: unknown) => {
      fillFileSelect(file, [], models);
      filesError.textContent = `Could not load the firmware files: ${errorText(err)}`;
      filesError.hidden = false;
    });

  return {
    title: "Schedule a firmware update",
    element: form,
    problems,
    deviceNames: devices.map(deviceName),
    ready,
    request: () =>
      scheduleRequest(
        {
          fileId: file.value,
          transfer: transfer.value,
          execute: execute.value,
          timezone: timezone.value,
          allowOtherModel: allowOther.checked,
        },
        devices.map((d) => d.device_id),
      ),
    focusFirst: () => file.focus(),
  };
}

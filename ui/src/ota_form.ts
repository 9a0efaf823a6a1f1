// The "Configure OTA" form: the OTA mode and the hours in which the printers may update
// themselves, or any time (rmm-core's -1/-1).
import type { ChangeRequest, DeviceView } from "./backend";
import { deviceListLine, deviceName, type ChangeForm } from "./change_form";
import { el, labelled } from "./dom";
import { ProblemSlots } from "./form_problems";

export const OTA_FIELDS = ["ota_mode", "start_hour", "end_hour"] as const;
export const OTA_MODES = ["auto", "confirmation", "off"] as const;

/**
 * An hour field's value for the request. An empty or non-numeric field becomes -2, an hour no
 * rule accepts, so that rmm-core reports it beside the field (a missing number would instead
 * fail to decode as a whole).
 */
export function hourValue(text: string): number {
  if (text.trim() === "") return -2;
  const n = Number(text);
  return Number.isFinite(n) ? Math.trunc(n) : -2;
}

export interface OtaValues {
  mode: string;
  start: string;
  end: string;
  anyTime: boolean;
}

export function otaRequest(values: OtaValues, deviceIds: string[]): ChangeRequest {
  return {
    action: "configure_ota_mode",
    device_ids: deviceIds,
    ota_mode: values.mode,
    start_hour: values.anyTime ? -1 : hourValue(values.start),
    end_hour: values.anyTime ? -1 : hourValue(values.end),
    group_id: null,
  };
}

/** The selection's common mode and window, to start from what the devices have now. */
export function commonOta(devices: DeviceView[]): { mode: string | null; start: string; end: string; anyTime: boolean } {
  const modes = new Set(devices.map((d) => d.ota_mode));
  const windows = new Set(devices.map((d) => d.ota_window ?? ""));
  const mode = modes.size === 1 ? [...modes][0] ?? null : null;
  const window = windows.size === 1 ? [...windows][0] ?? "" : "";
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(window);
  if (m) return { mode, start: m[1] ?? "", end: m[2] ?? "", anyTime: false };
  return { mode, start: "", end: "", anyTime: window === "-1--1" || window === "" };
}

export function createOtaForm(devices: DeviceView[]): ChangeForm {
  const problems = new ProblemSlots(OTA_FIELDS);
  const form = el("form", "ota-form", undefined, "change-form");
  form.noValidate = true;
  const start0 = commonOta(devices);

  const mode = el("select", "ota-mode");
  mode.id = "ota-mode";
  for (const m of OTA_MODES) {
    const o = el("option", undefined, m);
    o.value = m;
    mode.append(o);
  }
  mode.value = start0.mode && (OTA_MODES as readonly string[]).includes(start0.mode) ? start0.mode : "auto";

  const hour = (testid: string, value: string) => {
    const input = el("input", testid);
    input.type = "number";
    input.id = testid;
    input.min = "0";
    input.max = "23";
    input.step = "1";
    input.value = value;
    return input;
  };
  const start = hour("ota-start", start0.start);
  const end = hour("ota-end", start0.end);
  const anyTime = el("input", "ota-any-time");
  anyTime.type = "checkbox";
  anyTime.id = "ota-any-time";
  anyTime.checked = start0.anyTime;
  const syncHours = () => {
    start.disabled = anyTime.checked;
    end.disabled = anyTime.checked;
  };
  anyTime.addEventListener("change", syncHours);
  syncHours();

  mode.setAttribute("aria-describedby", "problem-ota_mode");
  start.setAttribute("aria-describedby", "problem-start_hour");
  end.setAttribute("aria-describedby", "problem-end_hour");

  const anyTimeLabel = el("label", undefined, undefined, "checkbox-field");
  anyTimeLabel.append(anyTime, el("span", undefined, "Any time"));
  form.append(
    deviceListLine(devices),
    problems.general,
    labelled("OTA mode", mode, problems.slot("ota_mode")),
    anyTimeLabel,
    labelled("From hour (0-23)", start, problems.slot("start_hour")),
    labelled("To hour (0-23)", end, problems.slot("end_hour")),
  );

  return {
    title: "Configure OTA updates",
    element: form,
    problems,
    deviceNames: devices.map(deviceName),
    request: () =>
      otaRequest(
        { mode: mode.value, start: start.value, end: end.value, anyTime: anyTime.checked },
        devices.map((d) => d.device_id),
      ),
    focusFirst: () => mode.focus(),
  };
}

// What the change dialog needs of each action form (schedule, OTA, cancel): its fields, where
// its problems show, and the request its current values make.
import type { ChangeRequest, DeviceView } from "./backend";
import { el } from "./dom";
import type { ProblemSlots } from "./form_problems";

export interface ChangeForm {
  /** The dialog's title, e.g. "Schedule a firmware update". */
  title: string;
  /** The <form>, with `data-testid` (schedule-form, ota-form, cancel-form). */
  element: HTMLFormElement;
  problems: ProblemSlots;
  /** The request the form's values make now. */
  request(): ChangeRequest;
  /** Where the keyboard goes when the form opens. */
  focusFirst(): void;
  /** The devices' names in the request's order, to name them in problems ("device_ids[2]"). */
  deviceNames: string[];
}

export function deviceName(d: DeviceView): string {
  return d.name || d.serial || d.device_id;
}

/** "3 devices: A, B, C" with at most `max` names, for the top of every form. */
export function deviceListText(devices: DeviceView[], max = 8): string {
  const names = devices.map(deviceName);
  const shown = names.slice(0, max).join(", ");
  const more = names.length > max ? `, and ${names.length - max} more` : "";
  const count = devices.length === 1 ? "1 device" : `${devices.length} devices`;
  return `${count}: ${shown}${more}`;
}

export function deviceListLine(devices: DeviceView[]): HTMLElement {
  return el("p", "form-devices", deviceListText(devices), "form-devices");
}

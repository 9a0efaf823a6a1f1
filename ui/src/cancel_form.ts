// The "Cancel reservations" form: only the devices whose scheduled update would be cancelled.
import type { ChangeRequest, DeviceView } from "./backend";
import { deviceName, type ChangeForm } from "./change_form";
import { el } from "./dom";
import { ProblemSlots } from "./form_problems";

export function cancelRequest(deviceIds: string[]): ChangeRequest {
  return { action: "cancel_scheduled_update", device_ids: deviceIds, group_id: null };
}

export function createCancelForm(devices: DeviceView[]): ChangeForm {
  const problems = new ProblemSlots([]);
  const form = el("form", "cancel-form", undefined, "change-form");
  form.noValidate = true;
  const list = el("ul", "cancel-devices", undefined, "device-list");
  for (const d of devices) {
    const item = el("li", "cancel-device", `${d.name || d.serial} (${d.model}, ${d.update_status})`);
    item.dataset.deviceId = d.device_id;
    list.append(item);
  }
  form.append(
    el("p", "form-devices", `Cancel the scheduled update of ${devices.length === 1 ? "1 device" : `${devices.length} devices`}:`),
    problems.general,
    list,
  );
  return {
    title: "Cancel scheduled updates",
    element: form,
    problems,
    deviceNames: devices.map(deviceName),
    request: () => cancelRequest(devices.map((d) => d.device_id)),
    focusFirst: () => form.querySelector<HTMLButtonElement>('[data-testid="form-preview"]')?.focus(),
  };
}

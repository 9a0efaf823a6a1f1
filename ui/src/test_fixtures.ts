// Devices, previews and errors the unit tests share (not part of the app bundle: only tests
// import it).
import { BackendError, type ChangePreview, type CommandError, type DeviceView } from "./backend";

export function device(id: string, over: Partial<DeviceView> = {}): DeviceView {
  return {
    device_id: id,
    model: "MX-3071",
    serial: `SN-${id}`,
    name: `Printer ${id}`,
    ip: "10.0.0.1",
    firmware: "0500",
    latest: "0600",
    needs_update: true,
    update_status: "none",
    ota_mode: "auto",
    ota_window: "-1--1",
    ota_setting: "applied",
    connection: "online",
    ...over,
  };
}

export function preview(ids: string[], over: Partial<ChangePreview> = {}): ChangePreview {
  return {
    action: "schedule_firmware_update",
    group_id: "g1",
    summary: `Schedule an update of ${ids.length} devices`,
    devices: ids.map((id) => ({
      device_id: id,
      model: "MX-3071",
      name: `Printer ${id}`,
      current: { firmware: "0500", update_status: "none", ota_mode: "auto", connection: "online" },
      change: "0500 → 0600",
    })),
    warnings: [],
    digest: "digest-1",
    ...over,
  };
}

export function backendError(over: Partial<CommandError> & Pick<CommandError, "code">): BackendError {
  return new BackendError({ message: `failed: ${over.code}`, problems: [], preview: null, ...over });
}

export function byTestId<T extends HTMLElement = HTMLElement>(root: ParentNode, id: string): T | null {
  return root.querySelector<T>(`[data-testid="${id}"]`);
}

export function allByTestId(root: ParentNode, id: string): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)];
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
}

// The device side panel: a device's details, reservation and the audit entries that touched
// it; the actions for that one device; Escape closes it and gives the focus back.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { auditEntries, type AuditEntry } from "./backend";
import { createDevicePanel, firmwareText, otaText } from "./device_panel";
import { byTestId, device, settle } from "./test_fixtures";

vi.mock("./backend", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./backend")>()),
  auditEntries: vi.fn(),
}));

const entry = (id: number, succeeded: boolean): AuditEntry =>
  ({
    id,
    at_ms: 1_900_000_000_000,
    caller: { kind: "mcp_client", name: "Claude Code", session: "s" },
    action: "configure_ota_mode",
    group_id: "g",
    device_ids: ["d1"],
    request: {},
    preview: {},
    answer: {},
    succeeded,
  }) as AuditEntry;

beforeEach(() => {
  document.body.innerHTML = "";
  vi.mocked(auditEntries).mockReset();
});

describe("device panel", () => {
  it("shows the device, its reservation and who changed it", async () => {
    vi.mocked(auditEntries).mockResolvedValue([entry(2, true), entry(1, false)]);
    const panel = createDevicePanel(() => undefined);
    document.body.append(panel.root);
    panel.open(
      device("d1", {
        update_status: "reserved",
        reserved_file_id: "F9",
        reservation: { execute_local: "203001020300", time_zone: "UTC+09:00", transfer_ms: 1_900_000_000_000 },
      }),
    );
    expect(panel.openId()).toBe("d1");
    expect(byTestId(document, "device-firmware")?.textContent).toBe("0500 → 0600");
    expect(byTestId(document, "device-reserved-file")?.textContent).toBe("F9");
    expect(byTestId(document, "device-execute")?.textContent).toBe("2030-01-02 03:00 UTC+09:00");
    expect(byTestId(document, "device-action-cancel")).not.toBeNull();
    expect(vi.mocked(auditEntries)).toHaveBeenCalledWith({ device_id: "d1", limit: 20 });
    await settle();
    const lines = document.querySelectorAll('[data-testid="device-history-entry"]');
    expect(lines).toHaveLength(2);
    expect(lines[0]?.textContent).toContain("Configure OTA by Claude Code");
    expect(lines[1]?.textContent).toContain("(failed)");
  });

  it("offers this device's actions and closes on Escape, giving the focus back", async () => {
    vi.mocked(auditEntries).mockResolvedValue([]);
    const asked: string[] = [];
    const panel = createDevicePanel((action, d) => asked.push(`${action} ${d.device_id}`));
    const before = document.createElement("button");
    document.body.append(before, panel.root);
    before.focus();
    panel.open(device("d2"));
    expect(byTestId(document, "device-action-cancel")).toBeNull();
    byTestId(document, "device-action-ota")?.click();
    expect(asked).toEqual(["ota d2"]);
    await settle();
    expect(byTestId(document, "device-history-none")).not.toBeNull();
    panel.root.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(panel.root.hidden).toBe(true);
    expect(document.activeElement).toBe(before);
  });

  it("says the firmware and OTA setting in words", () => {
    const { latest: _, ...upToDate } = device("x");
    expect(firmwareText(upToDate)).toBe("0500 (up to date)");
    expect(otaText(device("x"))).toBe("auto, any time");
    expect(otaText(device("x", { ota_window: "2-4", ota_setting: "pending" }))).toBe("auto, 2-4 (setting pending)");
  });
});

// Tests of the change dialog with each action form: problems beside their fields or in the
// general list, the preview, confirming (and a preview that changed), errors keeping values.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { applyChange, firmwareFiles, previewChange, type ChangeResult, type FirmwareFileView } from "./backend";
import { createCancelForm } from "./cancel_form";
import { PREVIEW_CHANGED_NOTE, openChangeDialog, type ChangeDialogHooks } from "./change_dialog";
import { generalText, placeProblems, ruleText } from "./form_problems";
import { createOtaForm, otaRequest } from "./ota_form";
import { createScheduleForm, fileGroups } from "./schedule_form";
import { allByTestId, backendError, byTestId, device, preview, settle } from "./test_fixtures";

vi.mock("./backend", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./backend")>()),
  previewChange: vi.fn(),
  applyChange: vi.fn(),
  firmwareFiles: vi.fn(),
}));

const files: FirmwareFileView[] = [
  { file_id: "f-other", title: "BP firmware", file_name: "bp.bin", size_bytes: 10, fits_models: ["BP-50C26"] },
  { file_id: "f-fit", title: "MX firmware", file_name: "mx.bin", size_bytes: 10, fits_models: ["mx-3071", "MX-4071"] },
];

const result: ChangeResult = {
  action: "schedule_firmware_update",
  group_id: "g1",
  audit_id: 42,
  outcome: "confirmed",
  took_effect: true,
  affected_count: 2,
  devices: 2,
};

function hooks(): ChangeDialogHooks & { applied: string[][]; errors: unknown[] } {
  const applied: string[][] = [];
  const errors: unknown[] = [];
  return { applied, errors, onApplied: (_r, ids) => applied.push(ids), onError: (e) => errors.push(e) };
}

function setValue(id: string, value: string) {
  const input = byTestId<HTMLInputElement>(document, id);
  if (!input) throw new Error(`no ${id}`);
  input.value = value;
  input.dispatchEvent(new Event("input"));
}

function click(id: string) {
  const b = byTestId(document, id);
  if (!b) throw new Error(`no ${id}`);
  b.click();
}

const devices = [device("d1"), device("d2", { model: "MX-4071" })];

beforeEach(() => {
  document.body.innerHTML = "";
  vi.mocked(previewChange).mockReset();
  vi.mocked(applyChange).mockReset();
  vi.mocked(firmwareFiles).mockReset();
  vi.mocked(firmwareFiles).mockResolvedValue({ group_id: "g1", total_files: 2, files });
});

describe("schedule form", () => {
  it("lists fitting files first, in their own group", async () => {
    const form = createScheduleForm(devices, new Date());
    await form.ready;
    const groups = [...form.element.querySelectorAll("optgroup")].map((g) => g.label);
    expect(groups).toEqual(["fits", "other models"]);
    const values = [...form.element.querySelectorAll("option")].map((o) => o.value);
    expect(values).toEqual(["", "f-fit", "f-other"]);
    expect(fileGroups(files, ["BP-50C26", "MX-3071"]).fits).toEqual([]);
  });

  it("sends the converted times and the time zone", async () => {
    const form = createScheduleForm(devices, new Date());
    await form.ready;
    openChangeDialog(form, hooks());
    setValue("schedule-file", "f-fit");
    setValue("schedule-transfer", "2026-12-02T01:30");
    setValue("schedule-execute", "2026-12-02T03:00");
    setValue("schedule-timezone", "UTC+01:00");
    vi.mocked(previewChange).mockResolvedValue(preview(["d1", "d2"]));
    click("form-preview");
    await settle();
    expect(previewChange).toHaveBeenCalledWith({
      action: "schedule_firmware_update",
      device_ids: ["d1", "d2"],
      firmware_file_id: "f-fit",
      transfer_datetime: Date.UTC(2026, 11, 2, 0, 30),
      execute_datetime: "202612020300",
      timezone: "UTC+01:00",
      group_id: null,
      allow_other_model: false,
    });
    // The keyboard goes on from the preview: Enter confirms.
    expect(document.activeElement?.getAttribute("data-testid")).toBe("confirm-change");
  });

  it("allows a file for another model only when the box is ticked", async () => {
    const form = createScheduleForm(devices, new Date());
    await form.ready;
    openChangeDialog(form, hooks());
    setValue("schedule-file", "f-other");
    const allow = document.querySelector<HTMLInputElement>('[data-testid="schedule-allow-other-model"]');
    expect(allow?.checked).toBe(false);
    if (allow) allow.checked = true;
    vi.mocked(previewChange).mockResolvedValue(preview(["d1", "d2"]));
    click("form-preview");
    await settle();
    expect(vi.mocked(previewChange).mock.calls.at(-1)?.[0]).toMatchObject({ firmware_file_id: "f-other", allow_other_model: true });
  });

  it("sends empty dates as 0 and \"\" and shows each problem beside its field", async () => {
    const form = createScheduleForm(devices, new Date());
    await form.ready;
    openChangeDialog(form, hooks());
    // The form starts from default times; a person may clear them.
    setValue("schedule-transfer", "");
    setValue("schedule-execute", "");
    setValue("schedule-timezone", "Paris");
    vi.mocked(previewChange).mockRejectedValue(
      backendError({
        code: "bad_input",
        problems: [
          { field: "transfer_datetime", rule: "must be in the future" },
          { field: "execute_datetime", rule: "must be YYYYMMDDHHMM" },
          { field: "timezone", rule: "must be UTC±hh:mm" },
          { field: "firmware_file_id", rule: "is required" },
          { field: "device_ids[1]", rule: "is not in the group" },
          { field: "group_id", rule: "is unknown" },
        ],
      }),
    );
    click("form-preview");
    await settle();

    const sent = vi.mocked(previewChange).mock.calls[0]?.[0];
    expect(sent).toMatchObject({ transfer_datetime: 0, execute_datetime: "", timezone: "Paris", firmware_file_id: "" });
    expect(byTestId(document, "problem-transfer_datetime")?.textContent).toBe("must be in the future");
    expect(byTestId(document, "problem-transfer_datetime")?.getAttribute("role")).toBe("alert");
    expect(byTestId(document, "problem-execute_datetime")?.textContent).toBe("must be YYYYMMDDHHMM");
    expect(byTestId(document, "problem-execute_datetime")?.getAttribute("role")).toBeNull();
    expect(byTestId(document, "problem-timezone")?.textContent).toBe("must be UTC±hh:mm");
    expect(byTestId(document, "problem-firmware_file_id")?.textContent).toBe("is required");
    const general = byTestId(document, "problem-general");
    expect(general?.hidden).toBe(false);
    expect(general?.textContent).toContain("is not in the group");
    expect(general?.textContent).toContain("is unknown");
    expect(byTestId(document, "schedule-form")?.hidden).toBe(false);
    expect(byTestId<HTMLInputElement>(document, "schedule-timezone")?.value).toBe("Paris");
  });

  it("clears the problems of the last try on the next preview", async () => {
    const form = createScheduleForm(devices, new Date());
    await form.ready;
    openChangeDialog(form, hooks());
    vi.mocked(previewChange).mockRejectedValueOnce(
      backendError({ code: "bad_input", problems: [{ field: "timezone", rule: "bad zone" }] }),
    );
    click("form-preview");
    await settle();
    expect(byTestId(document, "problem-timezone")?.hidden).toBe(false);
    vi.mocked(previewChange).mockResolvedValueOnce(preview(["d1", "d2"]));
    click("form-preview");
    await settle();
    expect(byTestId(document, "problem-timezone")?.hidden).toBe(true);
    expect(byTestId(document, "change-preview")).not.toBeNull();
  });

  it("keeps what was typed when the cloud fails, and says why", async () => {
    const form = createScheduleForm(devices, new Date());
    await form.ready;
    const h = hooks();
    openChangeDialog(form, h);
    setValue("schedule-file", "f-fit");
    setValue("schedule-transfer", "2026-12-02T01:30");
    vi.mocked(previewChange).mockRejectedValue(backendError({ code: "cloud_failed", message: "The cloud did not answer" }));
    click("form-preview");
    await settle();
    expect(byTestId(document, "form-error")?.textContent).toBe("The cloud did not answer");
    expect(byTestId(document, "form-error")?.hidden).toBe(false);
    expect(byTestId<HTMLSelectElement>(document, "schedule-file")?.value).toBe("f-fit");
    expect(byTestId<HTMLInputElement>(document, "schedule-transfer")?.value).toBe("2026-12-02T01:30");
    expect(byTestId(document, "change-dialog")).not.toBeNull();
  });

  it("tells the window of an expired sign-in", async () => {
    const form = createScheduleForm(devices, new Date());
    await form.ready;
    const h = hooks();
    openChangeDialog(form, h);
    vi.mocked(previewChange).mockRejectedValue(backendError({ code: "sign_in_needed", message: "Sign in again" }));
    click("form-preview");
    await settle();
    expect(byTestId(document, "form-error")?.textContent).toBe("Sign in again");
    expect(h.errors).toHaveLength(1);
  });
});

describe("preview and confirm", () => {
  async function toPreview(h = hooks()) {
    const form = createScheduleForm(devices, new Date());
    await form.ready;
    openChangeDialog(form, h);
    setValue("schedule-file", "f-fit");
    vi.mocked(previewChange).mockResolvedValue(
      preview(["d1", "d2"], {
        warnings: [
          { device_id: "d2", kind: "offline", message: "is offline" },
          { kind: "no_change", message: "nothing changes for one device" },
        ],
      }),
    );
    click("form-preview");
    await settle();
    return h;
  }

  it("shows the preview: summary, devices, warnings", async () => {
    await toPreview();
    expect(byTestId(document, "preview-summary")?.textContent).toBe("Schedule an update of 2 devices");
    expect(allByTestId(document, "preview-device")).toHaveLength(2);
    const warnings = allByTestId(document, "preview-warning");
    expect(warnings.map((w) => w.textContent)).toEqual(["⚠ Printer d2: is offline", "⚠ nothing changes for one device"]);
    expect(warnings[0]?.className).toBe("warning");
    expect(byTestId(document, "schedule-form")?.hidden).toBe(true);
  });

  it("goes back to the form with the values kept", async () => {
    await toPreview();
    click("back-to-form");
    expect(byTestId(document, "schedule-form")?.hidden).toBe(false);
    expect(byTestId<HTMLSelectElement>(document, "schedule-file")?.value).toBe("f-fit");
  });

  it("confirms with the preview's digest and shows the result", async () => {
    const h = await toPreview();
    vi.mocked(applyChange).mockResolvedValue(result);
    click("confirm-change");
    await settle();
    expect(applyChange).toHaveBeenCalledWith(vi.mocked(previewChange).mock.calls[0]?.[0], "digest-1");
    expect(byTestId(document, "result-outcome")?.textContent).toContain("confirmed");
    expect(byTestId(document, "result-took-effect")?.textContent).toContain("yes");
    expect(byTestId(document, "result-audit-id")?.textContent).toContain("42");
    expect(allByTestId(document, "result-device").map((r) => r.dataset.deviceId)).toEqual(["d1", "d2"]);
    expect(h.applied).toEqual([["d1", "d2"]]);
    click("close-dialog");
    expect(byTestId(document, "change-dialog")).toBeNull();
  });

  it("shows the new preview when the devices changed, and confirms that one", async () => {
    await toPreview();
    const fresh = preview(["d1"], { summary: "Schedule an update of 1 device", digest: "digest-2" });
    vi.mocked(applyChange).mockRejectedValueOnce(backendError({ code: "preview_changed", preview: fresh }));
    click("confirm-change");
    await settle();
    expect(byTestId(document, "preview-note")?.textContent).toBe(PREVIEW_CHANGED_NOTE);
    expect(byTestId(document, "preview-summary")?.textContent).toBe("Schedule an update of 1 device");
    expect(byTestId(document, "change-result")).toBeNull();
    vi.mocked(applyChange).mockResolvedValueOnce(result);
    click("confirm-change");
    await settle();
    expect(vi.mocked(applyChange).mock.calls[1]?.[1]).toBe("digest-2");
    expect(allByTestId(document, "result-device")).toHaveLength(1);
  });

  it("stays on the preview when applying fails for another reason", async () => {
    const h = await toPreview();
    vi.mocked(applyChange).mockRejectedValue(backendError({ code: "cloud_refused", message: "refused" }));
    click("confirm-change");
    await settle();
    expect(byTestId(document, "form-error")?.textContent).toBe("refused");
    expect(byTestId(document, "change-preview")).not.toBeNull();
    expect(h.applied).toEqual([]);
  });
});

describe("OTA form", () => {
  it("sends -1/-1 for any time and disables the hours", () => {
    const form = createOtaForm([device("d1", { ota_window: "-1--1" })]);
    openChangeDialog(form, hooks());
    expect(byTestId<HTMLInputElement>(document, "ota-any-time")?.checked).toBe(true);
    expect(byTestId<HTMLInputElement>(document, "ota-start")?.disabled).toBe(true);
    expect(form.request()).toEqual({
      action: "configure_ota_mode",
      device_ids: ["d1"],
      ota_mode: "auto",
      start_hour: -1,
      end_hour: -1,
      group_id: null,
    });
  });

  it("starts from the devices' window and sends the hours typed", () => {
    const form = createOtaForm([device("d1", { ota_mode: "confirmation", ota_window: "2-5" })]);
    openChangeDialog(form, hooks());
    expect(byTestId<HTMLSelectElement>(document, "ota-mode")?.value).toBe("confirmation");
    setValue("ota-end", "6");
    expect(form.request()).toMatchObject({ ota_mode: "confirmation", start_hour: 2, end_hour: 6 });
    expect(otaRequest({ mode: "off", start: "", end: "x", anyTime: false }, [])).toMatchObject({
      start_hour: -2,
      end_hour: -2,
    });
  });

  it("shows the hour problems beside the hours and keeps them", async () => {
    const form = createOtaForm([device("d1", { ota_window: "2-5" })]);
    openChangeDialog(form, hooks());
    setValue("ota-start", "25");
    vi.mocked(previewChange).mockRejectedValue(
      backendError({
        code: "bad_input",
        problems: [
          { field: "start_hour", rule: "must be 0 to 23" },
          { field: "ota_mode", rule: "unknown mode" },
          { field: "device_ids", rule: "must not be empty" },
        ],
      }),
    );
    click("form-preview");
    await settle();
    expect(byTestId(document, "problem-start_hour")?.textContent).toBe("must be 0 to 23");
    expect(byTestId(document, "problem-start_hour")?.getAttribute("role")).toBe("alert");
    expect(byTestId(document, "problem-ota_mode")?.textContent).toBe("unknown mode");
    expect(byTestId(document, "problem-end_hour")?.hidden).toBe(true);
    expect(byTestId(document, "problem-general")?.textContent).toBe("must not be empty");
    expect(byTestId<HTMLInputElement>(document, "ota-start")?.value).toBe("25");
  });
});

describe("cancel form", () => {
  it("lists the devices and previews their cancellation", async () => {
    const form = createCancelForm(devices);
    openChangeDialog(form, hooks());
    expect(allByTestId(document, "cancel-device")).toHaveLength(2);
    vi.mocked(previewChange).mockRejectedValue(
      backendError({ code: "bad_input", problems: [{ field: "device_ids[0]", rule: "has no reservation" }] }),
    );
    click("form-preview");
    await settle();
    expect(previewChange).toHaveBeenCalledWith({ action: "cancel_scheduled_update", device_ids: ["d1", "d2"], group_id: null });
    const general = byTestId(document, "problem-general");
    expect(general?.textContent).toBe("Printer d1: has no reservation");
    expect(general?.getAttribute("role")).toBe("alert");
  });

  it("closes on Escape and gives the keyboard back to the opener", () => {
    const opener = document.createElement("button");
    document.body.append(opener);
    opener.focus();
    openChangeDialog(createCancelForm(devices), hooks());
    expect(document.activeElement?.getAttribute("data-testid")).toBe("form-preview");
    byTestId(document, "change-dialog")?.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(byTestId(document, "change-dialog")).toBeNull();
    expect(document.activeElement).toBe(opener);
  });
});

describe("general problems", () => {
  it("names the device of device_ids[N], or keeps the field when unknown", () => {
    expect(generalText({ field: "device_ids[1]", rule: "is offline" }, ["A", "B"])).toBe("B: is offline");
    expect(generalText({ field: "device_ids[5]", rule: "is offline" }, ["A"])).toBe("device_ids[5]: is offline");
    expect(generalText({ field: "device_ids", rule: "must not be empty" }, [])).toBe("must not be empty");
    expect(generalText({ field: "group_id", rule: "is unknown" }, [])).toBe("group_id: is unknown");
    // rmm-core's hints, in the app's words (not the MCP tool names).
    expect(generalText({ field: "device_ids[0]", rule: "no device x in group g", hint: "list_devices" }, ["A"])).toBe(
      "A: no device x in group g (see the Fleet tab)",
    );
    expect(ruleText({ field: "firmware_file_id", rule: "must name a staged firmware file", hint: "list_staged_firmware" })).toBe(
      "must name a staged firmware file (see the Firmware tab)",
    );
    expect(generalText({ field: "device_ids[0]", rule: "is a MX-3071 but file \"F\" is for BP-50C26", hint: "allow_other_model" }, ["A"])).toBe(
      "A: is a MX-3071 but file \"F\" is for BP-50C26 (or tick “Allow a file made for another model”)",
    );
    const placed = placeProblems(
      [
        { field: "timezone", rule: "a" },
        { field: "device_ids[0]", rule: "b" },
      ],
      ["timezone"],
    );
    expect(placed.byField.get("timezone")).toHaveLength(1);
    expect(placed.general.map((p) => p.field)).toEqual(["device_ids[0]"]);
  });
});

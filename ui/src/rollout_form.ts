// The "New rollout" form: what a person types (name, models, location or the Fleet tab's
// selection, canary, waves, soak, gates, hours, site limit, firmware per model, OTA guard) turned into a rollout plan for
// rmm-core, which checks every rule. Only the typing is read here: "10%, 30%, 100%" becomes
// three waves, "22-5" one window; the rules (shares, sizes, hours) are core's.
import type { Problem, RolloutPlan } from "./backend";
import { el, labelled } from "./dom";

/** The form's values as typed. */
export interface RolloutFormValues {
  name: string;
  models: string;
  location: string;
  /** Device ids to use instead of a query (the Fleet tab's selection), when ticked. */
  devices: string[] | null;
  canary: string;
  waves: string;
  soak: string;
  successShare: string;
  failureShare: string;
  pauseAfterEachWave: boolean;
  hours: string;
  siteLimit: string;
  /** `MODEL=FILE_ID, ...`; empty: each model's latest firmware. */
  firmware: string;
  /** Hold devices in OTA auto mode in confirmation during the rollout. */
  otaGuard: boolean;
  /** Replace devices' existing reservations (else those devices are left out). */
  replaceReservations: boolean;
}

/** A plan, or the problems of what could not even be read (field: the form's). */
export type FormReading = { plan: RolloutPlan; problems: [] } | { plan: null; problems: Problem[] };

function list(text: string): string[] {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

function number(text: string, field: string, problems: Problem[]): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const n = Number(t);
  if (!Number.isFinite(n)) {
    problems.push({ field, rule: `must be a number, got "${t}"` });
    return undefined;
  }
  return n;
}

/** Reads the form into a plan; every unreadable field at once. */
export function planFromForm(v: RolloutFormValues): FormReading {
  const problems: Problem[] = [];
  const soak = number(v.soak, "soak", problems);
  const waves = list(v.waves).map((w, i) => {
    const percent = w.endsWith("%");
    const n = Number(percent ? w.slice(0, -1).trim() : w);
    if (!Number.isFinite(n)) problems.push({ field: "waves", rule: `wave ${i + 1} must be a count (200) or a percent (25%), got "${w}"` });
    return percent ? { percent: n, soak_minutes: soak ?? 60 } : { count: n, soak_minutes: soak ?? 60 };
  });
  const canary = number(v.canary, "canary", problems);
  const success = number(v.successShare, "success_share", problems);
  const failure = number(v.failureShare, "failure_share", problems);
  const siteLimit = number(v.siteLimit, "site_limit", problems);
  const files: Record<string, string> = {};
  for (const pair of list(v.firmware)) {
    const [model, file] = pair.split("=").map((t) => t.trim());
    if (!model || !file) problems.push({ field: "firmware", rule: `must be MODEL=FILE_ID, got "${pair}"` });
    else files[model] = file;
  }
  if (problems.length > 0) return { plan: null, problems };
  const plan: RolloutPlan = {
    name: v.name,
    devices: v.devices
      ? { ids: v.devices }
      : { models: list(v.models), location: v.location.trim() === "" ? null : v.location.trim() },
    canary: { count: canary ?? 10, soak_minutes: soak ?? 60 },
    gates: {
      pause_after_each_wave: v.pauseAfterEachWave,
      ...(success === undefined ? {} : { success_share: success }),
      ...(failure === undefined ? {} : { failure_share: failure }),
    },
    windows: { hours: list(v.hours), site_limit: siteLimit ?? null },
    target: Object.keys(files).length > 0 ? { latest: false, files } : { latest: true },
    ota_guard: { enabled: v.otaGuard, existing_reservations: v.replaceReservations ? "replace" : "keep_out" },
  };
  if (waves.length > 0) plan.waves = waves;
  return { plan, problems: [] };
}

/** Which of the form's fields a problem of core's plan field is about. */
export function formFieldOf(planField: string): string {
  const base = planField.split(/[.[]/)[0] ?? planField;
  if (planField.startsWith("canary")) return "canary";
  if (planField.startsWith("gates.success_share")) return "success_share";
  if (planField.startsWith("gates.failure")) return "failure_share";
  if (planField.startsWith("windows.hours")) return "hours";
  if (planField.startsWith("windows.site_limit")) return "site_limit";
  if (planField.startsWith("devices.models")) return "models";
  if (planField.startsWith("target")) return "firmware";
  return base;
}

/** The form's labels for its fields, as problems name them. */
export const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  models: "Models",
  canary: "Canary devices",
  waves: "Waves",
  soak: "Soak (minutes)",
  success_share: "Success share",
  failure_share: "Failure share",
  hours: "Allowed hours",
  site_limit: "Per-site limit",
  devices: "Devices",
  firmware: "Firmware",
};

export interface RolloutForm {
  readonly root: HTMLElement;
  values(): RolloutFormValues;
}

function input(testid: string, value: string, placeholder = ""): HTMLInputElement {
  const i = el("input", testid);
  i.value = value;
  i.placeholder = placeholder;
  return i;
}

/** The form's fields; `selection` gives the Fleet tab's selected device ids. */
export function createRolloutForm(selection: () => string[]): RolloutForm {
  const root = el("div", "rollout-form", undefined, "rollout-form");
  const name = input("rollout-name", "Firmware rollout");
  const models = input("rollout-models", "", "all models, or MX-3071, MX-4071");
  const location = input("rollout-location", "", "any location");
  const useSelection = el("input", "rollout-use-selection");
  useSelection.type = "checkbox";
  const selectionText = el("span", "rollout-selection-count", "", "muted");
  const refreshSelection = () => {
    const n = selection().length;
    selectionText.textContent = `${n} selected in Fleet`;
    useSelection.disabled = n === 0;
    if (n === 0) useSelection.checked = false;
  };
  refreshSelection();
  const canary = input("rollout-canary", "10");
  const waves = input("rollout-waves", "10%, 30%, 100%");
  const soak = input("rollout-soak", "60");
  const success = input("rollout-success-share", "0.95");
  const failure = input("rollout-failure-share", "0.1");
  const pause = el("input", "rollout-pause-after-each-wave");
  pause.type = "checkbox";
  const hours = input("rollout-hours", "", "any hour, or 22-5");
  const siteLimit = input("rollout-site-limit", "", "no limit");
  const firmware = input("rollout-firmware", "", "each model's latest, or MX-3071=<file id>");
  const otaGuard = el("input", "rollout-ota-guard");
  otaGuard.type = "checkbox";
  otaGuard.checked = true;
  const replace = el("input", "rollout-replace-reservations");
  replace.type = "checkbox";
  root.append(
    labelled("Name", name),
    labelled("Models", models),
    labelled("Location contains", location),
    labelled("Only the selected devices", useSelection, selectionText),
    labelled("Canary devices", canary),
    labelled("Waves", waves),
    labelled("Soak (minutes)", soak),
    labelled("Success share", success),
    labelled("Failure share", failure),
    labelled("Wait for me after each wave", pause),
    labelled("Allowed hours", hours),
    labelled("Per-site limit", siteLimit),
    labelled("Firmware per model", firmware),
    labelled("Hold devices in OTA auto mode", otaGuard),
    labelled("Replace existing reservations", replace),
  );
  return {
    root,
    values: () => {
      refreshSelection();
      return {
        name: name.value,
        models: models.value,
        location: location.value,
        devices: useSelection.checked ? selection() : null,
        canary: canary.value,
        waves: waves.value,
        soak: soak.value,
        successShare: success.value,
        failureShare: failure.value,
        pauseAfterEachWave: pause.checked,
        hours: hours.value,
        siteLimit: siteLimit.value,
        firmware: firmware.value,
        otaGuard: otaGuard.checked,
        replaceReservations: replace.checked,
      };
    },
  };
}

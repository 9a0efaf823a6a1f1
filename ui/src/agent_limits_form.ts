// The agents' limits in Settings: what an agent may do alone with the profile's rollouts —
// devices per day, the largest wave, the hours and blackout dates, the failure share above
// which it may not go on — and the kill switch's state. Which firmware agents may roll out is
// set in the Firmware tab. Every rule is rmm-core's: its problems show beside the fields.
import { BackendError, agentPolicy, setAgentPolicy, type AgentPolicy } from "./backend";
import { button, el, errorText, labelled } from "./dom";
import { ProblemSlots } from "./form_problems";
import type { Toasts } from "./toasts";

export const LIMIT_FIELDS = ["devices_per_day", "largest_wave", "hours", "blackout_dates", "max_failure_share"] as const;

export interface AgentLimitsForm {
  readonly root: HTMLElement;
  load(): Promise<void>;
}

function list(text: string): string[] {
  return text
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

export function createAgentLimitsForm(toasts: Toasts): AgentLimitsForm {
  const root = el("section", "agent-limits", undefined, "agent-limits");
  const slots = new ProblemSlots(LIMIT_FIELDS);
  const field = (testid: string) => {
    const i = el("input", testid);
    i.autocomplete = "off";
    return i;
  };
  const perDay = field("limit-devices-per-day");
  const largest = field("limit-largest-wave");
  const hours = field("limit-hours");
  hours.placeholder = "any time, or 8-18";
  const blackouts = field("limit-blackout-dates");
  blackouts.placeholder = "none, or 2026-12-24, 2026-12-31";
  const share = field("limit-max-failure-share");
  const stopped = el("p", "limit-kill-switch", "", "muted");
  const qualified = el("p", "limit-qualified", "", "muted");
  let current: AgentPolicy | null = null;
  const allow = button("limit-allow-agents", "Allow agents again", () => void save({ agents_stopped: false }));
  const saveButton = button("limit-save", "Save limits", () => void save({}));
  saveButton.classList.add("primary");
  const error = el("p", "limit-error", "", "error");
  error.hidden = true;
  root.append(
    el("h3", undefined, "Agents' limits for rollouts"),
    el("p", undefined, "Inside these limits an agent may promote, resume and retry a rollout the person approved, without asking again. Anything beyond them waits for you.", "muted"),
    labelled("Devices per day", perDay, slots.slot("devices_per_day")),
    labelled("Largest wave", largest, slots.slot("largest_wave")),
    labelled("Hours agents may act (profile's time zone)", hours, slots.slot("hours")),
    labelled("Blackout dates", blackouts, slots.slot("blackout_dates")),
    labelled("Failure share above which agents stop (0-1)", share, slots.slot("max_failure_share")),
    qualified,
    stopped,
    allow,
    slots.general,
    error,
    saveButton,
  );

  function show(p: AgentPolicy) {
    current = p;
    perDay.value = String(p.devices_per_day);
    largest.value = String(p.largest_wave);
    hours.value = (p.hours ?? []).join(", ");
    blackouts.value = (p.blackout_dates ?? []).join(", ");
    share.value = String(p.max_failure_share);
    const n = (p.qualified ?? []).length;
    qualified.textContent = n === 0 ? "No firmware is qualified for agents yet (Firmware tab)." : `${n} firmware file(s) qualified for agents (Firmware tab).`;
    stopped.textContent = p.agents_stopped ? "Kill switch ON: agents may take no rollout step." : "Kill switch off.";
    allow.hidden = !p.agents_stopped;
  }

  async function load() {
    try {
      show(await agentPolicy());
      error.hidden = true;
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  async function save(change: Partial<AgentPolicy>) {
    if (!current) return;
    slots.clear();
    error.hidden = true;
    const policy = {
      ...current,
      devices_per_day: Number(perDay.value),
      largest_wave: Number(largest.value),
      hours: list(hours.value),
      blackout_dates: list(blackouts.value),
      max_failure_share: Number(share.value),
      ...change,
    };
    try {
      show(await setAgentPolicy(policy));
      toasts.toast("Agents' limits saved.");
    } catch (err) {
      // `hours[1]` is shown beside Hours.
      if (err instanceof BackendError && err.problems.length > 0)
        slots.show(err.problems.map((p) => ({ ...p, field: p.field.replace(/\[\d+\]$/, "") })));
      else {
        error.textContent = errorText(err);
        error.hidden = false;
      }
    }
  }

  return { root, load };
}

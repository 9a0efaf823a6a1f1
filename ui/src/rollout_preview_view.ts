// A rollout plan's preview as a person reads it, in the Rollouts view and in the approval
// dialog of an agent's rollout: the targets per model, the waves with each wave's first local
// update time, the conflicts, where the plan stands against the agents' envelope, and the
// digest an approval binds to.
import type { RolloutPlanAnswer } from "./backend";
import { el } from "./dom";

export function renderRolloutPreview(answer: RolloutPlanAnswer): HTMLElement {
  const p = answer.preview;
  const lines: HTMLElement[] = [
    el("p", "rollout-preview-summary", `${p.total_devices} devices in ${p.waves.length} waves`, "preview-summary"),
  ];
  const targets = el("ul", "rollout-preview-targets");
  for (const t of p.targets) targets.append(el("li", undefined, `${t.model}: ${t.devices} devices → ${t.version} (${t.file_title})`));
  const table = el("table", "rollout-preview-waves", undefined, "list-table");
  const head = el("tr");
  for (const h of ["Wave", "Devices", "Soak", "First update (device's local time)"]) head.append(el("th", undefined, h));
  table.append(head);
  for (const w of p.waves) {
    const first = w.devices.map((d) => d.first_slot_local).filter((t) => t).sort()[0] ?? "";
    const tr = el("tr", `rollout-preview-wave-${w.index}`);
    tr.append(el("td", undefined, w.label), el("td", undefined, String(w.devices.length)), el("td", undefined, `${w.soak_minutes} min`), el("td", undefined, first));
    table.append(tr);
  }
  // Each device's first possible update, in its own time zone, one wave at a time.
  const perDevice = el("div", "rollout-preview-devices");
  for (const w of p.waves) {
    const d = el("details", `rollout-preview-devices-${w.index}`);
    d.append(el("summary", undefined, `${w.label}: each device's update time`));
    const t = el("table", undefined, undefined, "list-table");
    for (const dev of w.devices) {
      const tr = el("tr");
      tr.append(el("td", undefined, dev.model), el("td", undefined, dev.site ?? ""), el("td", undefined, dev.first_slot_local ?? "", "mono"), el("td", undefined, dev.device_id, "mono muted"));
      t.append(tr);
    }
    d.append(t);
    perDevice.append(d);
  }
  const conflicts = new Map<string, number>();
  for (const c of p.conflicts) {
    const key = `${c.kind}${c.included ? " (included)" : " (left out)"}`;
    conflicts.set(key, (conflicts.get(key) ?? 0) + 1);
  }
  const conflictList = el("ul", "rollout-preview-conflicts");
  for (const [k, n] of conflicts) conflictList.append(el("li", undefined, `${n} ${k.replace(/_/g, " ")}`));
  const env = answer.envelope;
  const envelope = el(
    "p",
    "rollout-preview-envelope",
    env.within
      ? "Inside the agents' limits: an agent may promote and resume it alone."
      : `Outside the agents' limits (${env.limits_hit.map((h) => h.limit.replace(/_/g, " ")).join(", ")}): only a person may promote or resume it.`,
    "muted",
  );
  const digest = el("p", "rollout-preview-digest", `Digest ${p.digest}`, "muted mono");
  lines.push(targets, table, perDevice, conflictList, envelope, ...p.notes.map((n) => el("p", undefined, n, "muted")), digest);
  const box = el("div", "rollout-preview-body");
  box.append(...lines);
  return box;
}

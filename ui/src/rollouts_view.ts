// The Rollouts tab: every rollout of the profile with its state; a new one planned from the
// form (or the Fleet tab's selection), previewed (waves, each device's local update time,
// conflicts, the agents' envelope, the digest) and started; the chosen one watched — waves as
// bars with counts per state, the gate's numbers against its thresholds, the reason it paused,
// who drives it, a timeline — with the person's actions. The app's runner drives it.
import {
  BackendError,
  listRollouts,
  onRolloutChanged,
  planRollout,
  rolloutAction,
  rolloutHistory,
  rolloutStatus,
  startRollout,
  stopAgents,
  type RolloutAction,
  type RolloutPlan,
  type RolloutPlanAnswer,
  type RolloutRecord,
  type RolloutStatus,
} from "./backend";
import { button, el, errorText } from "./dom";
import type { ErrorBanner } from "./error_banner";
import { FIELD_LABELS, createRolloutForm, formFieldOf, planFromForm } from "./rollout_form";
import { renderRolloutPreview } from "./rollout_preview_view";
import type { Toasts } from "./toasts";

export interface RolloutsViewDeps {
  banner: ErrorBanner;
  toasts: Toasts;
  /** The Fleet tab's selected device ids. */
  selection: () => string[];
}

export interface RolloutsView {
  readonly root: HTMLElement;
  onShow(): void;
  onHide(): void;
}

/** The actions a rollout in `state` offers. */
export function actionsFor(state: RolloutRecord["state"]): RolloutAction[] {
  switch (state) {
    case "running":
      return ["pause", "promote", "abort"];
    case "paused":
      return ["resume", "promote", "abort", "retry_failed"];
    case "finished":
      return ["retry_failed"];
    case "aborted":
      return [];
  }
}

const ACTION_LABELS: Record<RolloutAction, string> = {
  pause: "Pause",
  resume: "Resume",
  promote: "Start next wave",
  abort: "Abort",
  retry_failed: "Retry failed",
};

/** Where a rollout is among its waves: "canary of 3 waves", "wave 2 of 3 waves". */
export function waveText(r: Pick<RolloutRecord, "wave" | "waves">): string {
  const at = Math.min(r.wave, Math.max(0, r.waves - 1));
  return `${at === 0 ? "canary" : `wave ${at}`} of ${r.waves} waves`;
}

/**
 * A wave's counts in one line that adds up: a failing device waiting for its retry is counted
 * as failing only (the engine's counts overlap there).
 */
export function countsText(c: RolloutStatus["counts"]): string {
  const underWay = c.reserved + c.reserving;
  const waiting = Math.max(0, c.total - c.verified - c.failing - c.aborted - underWay);
  const aborted = c.aborted ? ` · ${c.aborted} aborted` : "";
  return `${c.verified} verified · ${c.failing} failing · ${underWay} under way · ${waiting} waiting${aborted} of ${c.total}`;
}

function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
}

function bar(counts: RolloutStatus["counts"]): HTMLElement {
  const track = el("div", undefined, undefined, "wave-bar");
  const total = Math.max(1, counts.total);
  const part = (n: number, cls: string, title: string) => {
    if (n === 0) return;
    const seg = el("span", undefined, undefined, `wave-seg ${cls}`);
    seg.style.width = `${(100 * n) / total}%`;
    seg.title = `${n} ${title}`;
    track.append(seg);
  };
  part(counts.verified, "seg-verified", "verified");
  part(counts.failing + counts.failed, "seg-failed", "failing or failed");
  part(counts.reserved + counts.reserving, "seg-running", "under way");
  part(counts.aborted, "seg-aborted", "aborted");
  return track;
}

export function createRolloutsView(deps: RolloutsViewDeps): RolloutsView {
  const root = el("section", "rollouts-view", undefined, "view");
  const bar_ = el("div", undefined, undefined, "toolbar");
  const newButton = button("rollout-new", "New rollout…", () => showForm(true));
  const refresh = button("rollouts-refresh", "Refresh", () => void loadList());
  const stop = button("agents-stop", "Stop agents' rollouts", () => void killSwitch());
  stop.title = "The kill switch: agents take no rollout step, and every rollout an agent started is paused";
  bar_.append(el("h2", undefined, "Rollouts"), newButton, refresh, el("span", undefined, undefined, "spacer"), stop);

  const layout = el("div", undefined, undefined, "rollouts-layout");
  const list = el("ul", "rollout-list", undefined, "rollout-list");
  const detail = el("div", "rollout-detail", undefined, "rollout-detail");
  layout.append(list, detail);

  // The new-rollout panel: the form, its problems, the preview and the start button.
  const planner = el("div", "rollout-planner", undefined, "rollout-planner");
  planner.hidden = true;
  const form = createRolloutForm(deps.selection);
  const problems = el("ul", "rollout-problems", undefined, "problem problem-list");
  problems.hidden = true;
  const preview = el("div", "rollout-preview", undefined, "rollout-preview");
  const previewButton = button("rollout-preview-button", "Preview", () => void makePreview());
  const startButton = button("rollout-start", "Start rollout", () => void start());
  startButton.disabled = true;
  const cancel = button("rollout-form-cancel", "Close", () => showForm(false));
  const formBar = el("div", undefined, undefined, "toolbar");
  formBar.append(previewButton, startButton, cancel);
  planner.append(el("h3", undefined, "New rollout"), form.root, problems, formBar, preview);

  root.append(bar_, planner, layout);

  let rollouts: RolloutRecord[] = [];
  let chosen: number | null = null;
  let planned: { plan: RolloutPlan; answer: RolloutPlanAnswer } | null = null;
  let poll: ReturnType<typeof setInterval> | null = null;

  function showForm(on: boolean) {
    planner.hidden = !on;
    if (on) form.root.querySelector<HTMLInputElement>("input")?.focus();
  }

  function showProblems(list_: { field: string; rule: string }[]) {
    problems.replaceChildren(
      ...list_.map((p) => {
        const field = formFieldOf(p.field);
        return el("li", `rollout-problem-${field}`, `${FIELD_LABELS[field] ?? field}: ${p.rule}`);
      }),
    );
    problems.hidden = list_.length === 0;
  }

  async function makePreview() {
    startButton.disabled = true;
    planned = null;
    preview.replaceChildren();
    const reading = planFromForm(form.values());
    if (reading.plan === null) {
      showProblems(reading.problems);
      return;
    }
    showProblems([]);
    previewButton.disabled = true;
    try {
      const answer = await planRollout(reading.plan);
      planned = { plan: reading.plan, answer };
      preview.replaceChildren(renderRolloutPreview(answer));
      startButton.disabled = answer.preview.total_devices === 0;
    } catch (err) {
      if (err instanceof BackendError && err.problems.length > 0) showProblems(err.problems);
      else deps.banner.report(err, () => void makePreview());
    } finally {
      previewButton.disabled = false;
    }
  }

  async function start() {
    if (!planned) return;
    startButton.disabled = true;
    try {
      const id = await startRollout(planned.plan, planned.answer.preview.digest);
      deps.toasts.toast(`Rollout ${id} started.`);
      showForm(false);
      preview.replaceChildren();
      planned = null;
      chosen = id;
      await loadList();
    } catch (err) {
      if (err instanceof BackendError && err.code === "preview_changed") {
        deps.toasts.toast("The fleet changed since the preview: look at the new one before starting.");
        await makePreview();
      } else {
        deps.banner.report(err);
        startButton.disabled = false;
      }
    }
  }

  async function killSwitch() {
    if (!window.confirm("Stop every rollout an agent started, and let agents take no rollout step until you allow them again in Settings?")) return;
    try {
      const paused = await stopAgents();
      deps.toasts.toast(`Agents stopped; ${paused.length} rollout(s) paused.`);
      await loadList();
    } catch (err) {
      deps.banner.report(err);
    }
  }

  function renderList() {
    list.replaceChildren(
      ...rollouts.map((r) => {
        const li = el("li", `rollout-item-${r.id}`, undefined, r.id === chosen ? "rollout-item chosen" : "rollout-item");
        const b = button(`rollout-open-${r.id}`, "", () => {
          chosen = r.id;
          renderList();
          void loadDetail();
        });
        b.append(el("span", undefined, `${r.name}`, "rollout-name"), el("span", undefined, r.state, `state state-${r.state}`), el("span", undefined, waveText(r), "muted"));
        li.append(b);
        return li;
      }),
    );
    if (rollouts.length === 0) list.append(el("li", "rollouts-empty", "No rollouts yet: plan one with “New rollout…”.", "muted"));
  }

  async function loadList() {
    try {
      rollouts = await listRollouts();
      if (chosen === null && rollouts[0]) chosen = rollouts[0].id;
      renderList();
      await loadDetail();
    } catch (err) {
      deps.banner.report(err, () => void loadList());
    }
  }

  async function loadDetail() {
    if (chosen === null) {
      detail.replaceChildren();
      return;
    }
    const id = chosen;
    try {
      const [status, events] = await Promise.all([rolloutStatus(id), rolloutHistory(id, 40)]);
      if (id !== chosen) return;
      renderDetail(status, events);
    } catch (err) {
      detail.replaceChildren(el("p", "rollout-detail-error", errorText(err), "problem"));
    }
  }

  function renderDetail(s: RolloutStatus, events: Awaited<ReturnType<typeof rolloutHistory>>) {
    const r = s.rollout;
    const head = el("div", undefined, undefined, "toolbar");
    head.append(el("h3", "rollout-title", `${r.name}`), el("span", "rollout-state", r.state, `state state-${r.state}`));
    const parts: HTMLElement[] = [head];
    // A pause's reason is the summary's whole content: said once, where it stands out.
    if (r.state === "paused" && r.reason) parts.push(el("p", "rollout-reason", `Why it paused: ${r.reason}`, "rollout-reason"));
    else parts.push(el("p", "rollout-summary", s.summary));
    parts.push(el("p", "rollout-started-by", `Started by ${r.started_by.kind.replace("_", " ")} ${"name" in r.started_by ? r.started_by.name : ""}`, "muted"));
    const actions = el("div", "rollout-actions", undefined, "toolbar");
    for (const a of actionsFor(r.state)) {
      actions.append(
        button(`rollout-action-${a}`, ACTION_LABELS[a], () => {
          if (a === "abort" && !window.confirm("Abort: remove the reservations of devices that have not started updating?")) return;
          void act(r.id, a);
        }),
      );
    }
    parts.push(actions);
    const waves = el("div", "rollout-waves", undefined, "rollout-waves");
    for (const w of s.waves) {
      const c = w.counts;
      const row = el("div", `rollout-wave-${w.index}`, undefined, w.index === r.wave ? "rollout-wave current" : "rollout-wave");
      row.append(
        el("span", undefined, w.label, "wave-label"),
        bar(c),
        el("span", `rollout-wave-${w.index}-counts`, countsText(c), "muted"),
      );
      if (w.index === r.wave) {
        const g = w.gate;
        row.append(el("span", "rollout-gate", `Gate: ${g.verified} of ${g.verified_needed} verified needed; ${g.failing} failing of ${g.finished} finished (pauses above ${Math.round(100 * (g.failure_share ?? 0))}% and above ${g.failure_count})`, "muted"));
      }
      waves.append(row);
    }
    parts.push(waves);
    const timeline = el("ol", "rollout-timeline", undefined, "rollout-timeline");
    for (const e of [...events].reverse()) {
      timeline.append(el("li", undefined, `${localTime(e.at_ms)} ${e.kind.replace(/_/g, " ")}${e.device_id ? ` ${e.device_id}` : ""}: ${e.detail}`));
    }
    parts.push(el("h4", undefined, "Timeline"), timeline);
    detail.replaceChildren(...parts);
  }

  async function act(id: number, action: RolloutAction) {
    try {
      const answer = await rolloutAction(id, action);
      const extra = answer.abort ? `: ${answer.abort.stopped.length} reservations removed, ${answer.abort.never_started} devices had not started` : "";
      deps.toasts.toast(`${ACTION_LABELS[action]} done${extra}.`);
      await loadList();
    } catch (err) {
      deps.banner.report(err);
    }
  }

  void onRolloutChanged(() => {
    if (!root.hidden) void loadList();
  }).catch(() => undefined);

  return {
    root,
    onShow: () => {
      void loadList();
      // The runner moves rollouts on; the view reads them again while it is open.
      poll ??= setInterval(() => void loadDetail(), 5000);
    },
    onHide: () => {
      if (poll !== null) clearInterval(poll);
      poll = null;
    },
  };
}

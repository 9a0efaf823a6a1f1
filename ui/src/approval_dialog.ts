// The approval dialog: when an agent asks for a change (or to start a rollout) that needs the
// user's yes, its preview shows here, whatever tab is open — for a rollout, its waves, the
// agents' envelope it falls under and the digest the yes binds to. Requests queue up and show one at a time; one the agent
// withdrew (it gave up, timed out) disappears.
import { answerApproval, type ApprovalRequested, type RolloutApprovalRequested } from "./backend";
import { renderPreview } from "./change_preview_view";
import { button, el, errorText } from "./dom";
import { openModal, type Modal } from "./modal";
import { renderRolloutPreview } from "./rollout_preview_view";

/** What an agent asks the person to approve: a change, or starting a rollout. */
export type Approvable = ApprovalRequested | RolloutApprovalRequested;

function isRollout(a: Approvable): a is RolloutApprovalRequested {
  return "plan" in a;
}

/** The requests waiting for an answer, oldest first. */
export class ApprovalQueue {
  private items: Approvable[] = [];

  add(a: Approvable): void {
    if (!this.items.some((i) => i.id === a.id)) this.items.push(a);
  }

  /** Removes `id`; true when it was there. */
  remove(id: string): boolean {
    const before = this.items.length;
    this.items = this.items.filter((i) => i.id !== id);
    return this.items.length !== before;
  }

  current(): Approvable | null {
    return this.items[0] ?? null;
  }

  size(): number {
    return this.items.length;
  }
}

/** "Claude Desktop asks to schedule …" from rmm-core's summary ("Schedule …"). */
export function askText(a: Approvable): string {
  if (isRollout(a)) {
    const p = a.plan.preview;
    return `${a.client} asks to start rollout “${p.name}” on ${p.total_devices} devices in ${p.waves.length} waves`;
  }
  const s = a.preview.summary;
  // Lower the first letter, unless the summary starts with an acronym ("OTA …").
  const first = /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
  return `${a.client} asks to ${first}`;
}

export interface ApprovalDialog {
  requested(a: Approvable): void;
  settled(id: string): void;
  readonly queue: ApprovalQueue;
}

export function createApprovalDialog(): ApprovalDialog {
  const queue = new ApprovalQueue();
  let modal: Modal | null = null;
  let shownId: string | null = null;

  function draw() {
    const a = queue.current();
    if (!a) {
      modal?.close();
      return;
    }
    if (shownId === a.id && modal) {
      updateCount();
      return;
    }
    shownId = a.id;
    const title = el("h2", "approval-title", askText(a));
    const count = el("p", "approval-count", "", "muted");
    const error = el("p", "approval-error", "", "error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    const approve = button("approval-approve", "Approve", () => void answer(a.id, true));
    approve.classList.add("primary");
    const refuse = button("approval-refuse", "Refuse", () => void answer(a.id, false));
    const buttons = el("div", undefined, undefined, "form-buttons");
    buttons.append(approve, refuse);
    const body = [
      title,
      count,
      isRollout(a)
        ? renderRolloutPreview(a.plan)
        : renderPreview(a.preview, { testid: "approval-preview", summaryTestid: "approval-summary" }),
      error,
      buttons,
    ];
    const old = modal;
    modal = openModal("approval-dialog", body, isRollout(a) ? "Approve an agent's rollout" : "Approve an agent's change", false);
    modal.root.classList.add("approval");
    const mine = modal;
    mine.onClose(() => {
      if (modal === mine) {
        modal = null;
        shownId = null;
      }
    });
    old?.close();
    updateCount();
    refuse.focus();

    async function answer(id: string, yes: boolean) {
      approve.disabled = true;
      refuse.disabled = true;
      try {
        await answerApproval(id, yes);
        queue.remove(id);
        draw();
      } catch (err) {
        error.textContent = errorText(err);
        error.hidden = false;
        approve.disabled = false;
        refuse.disabled = false;
      }
    }
  }

  function updateCount() {
    const c = modal?.root.querySelector<HTMLElement>('[data-testid="approval-count"]');
    if (!c) return;
    const waiting = queue.size() - 1;
    c.textContent = waiting > 0 ? `${waiting} more request${waiting === 1 ? "" : "s"} waiting` : "";
    c.hidden = waiting === 0;
  }

  return {
    queue,
    requested(a) {
      queue.add(a);
      draw();
    },
    settled(id) {
      if (queue.remove(id)) draw();
    },
  };
}

// Where rmm-core's problems with a change request go in a form: next to the field they name
// (`problem-<field>`), or, for the device list (`device_ids`, `device_ids[2]`) and fields the
// form does not have, in the form's general list (`problem-general`).
import type { Problem } from "./backend";
import { el } from "./dom";

export interface PlacedProblems {
  byField: Map<string, Problem[]>;
  general: Problem[];
}

/** Sorts `problems` into those of `fields` (the form's own) and the general rest. */
export function placeProblems(problems: Problem[], fields: readonly string[]): PlacedProblems {
  const byField = new Map<string, Problem[]>();
  const general: Problem[] = [];
  for (const p of problems) {
    if (fields.includes(p.field)) {
      byField.set(p.field, [...(byField.get(p.field) ?? []), p]);
    } else {
      general.push(p);
    }
  }
  return { byField, general };
}

/** The slots a form shows problems in: one per field, and the general list. */
export class ProblemSlots {
  private slots = new Map<string, HTMLElement>();
  readonly general: HTMLElement;

  constructor(readonly fields: readonly string[]) {
    for (const f of fields) {
      const slot = el("div", `problem-${f}`, undefined, "problem");
      slot.id = `problem-${f}`;
      slot.hidden = true;
      this.slots.set(f, slot);
    }
    this.general = el("ul", "problem-general", undefined, "problem problem-list");
    this.general.hidden = true;
  }

  /** The slot of `field`, to put beside its input. */
  slot(field: string): HTMLElement {
    const s = this.slots.get(field);
    if (!s) throw new Error(`no problem slot for ${field}`);
    return s;
  }

  clear(): void {
    for (const s of this.slots.values()) {
      s.replaceChildren();
      s.hidden = true;
      s.removeAttribute("role");
    }
    this.general.replaceChildren();
    this.general.hidden = true;
    this.general.removeAttribute("role");
  }

  /**
   * Shows `problems`; the first one shown is announced (role=alert). `deviceNames` (in the
   * request's order) turns "device_ids[1]" into the device's name.
   */
  show(problems: Problem[], deviceNames: readonly string[] = []): void {
    this.clear();
    const placed = placeProblems(problems, this.fields);
    let first: HTMLElement | null = null;
    for (const p of problems) {
      // Walk in rmm-core's order so the first problem it reported is the one announced.
      const target = placed.general.includes(p) ? this.general : this.slots.get(p.field);
      if (target && first === null) first = target;
    }
    for (const [field, list] of placed.byField) {
      const slot = this.slot(field);
      slot.textContent = list.map(ruleText).join("; ");
      slot.hidden = false;
    }
    for (const p of placed.general) {
      const item = el("li", undefined, generalText(p, deviceNames));
      this.general.append(item);
      this.general.hidden = false;
    }
    first?.setAttribute("role", "alert");
  }
}

/** A problem's hint in the app's words (rmm-core gives the hint as data). */
const HINT_TEXTS: Record<NonNullable<Problem["hint"]>, string> = {
  list_devices: "see the Fleet tab",
  list_staged_firmware: "see the Firmware tab",
  allow_other_model: "or tick “Allow a file made for another model”",
};

/** A problem's rule, with its hint in the app's words. */
export function ruleText(p: Problem): string {
  return p.hint ? `${p.rule} (${HINT_TEXTS[p.hint]})` : p.rule;
}

/** A general problem in words: the rule, after the device or field it is about. */
export function generalText(p: Problem, deviceNames: readonly string[]): string {
  if (p.field === "device_ids") return ruleText(p);
  const m = /^device_ids\[(\d+)\]$/.exec(p.field);
  const name = m ? deviceNames[Number(m[1])] : undefined;
  return `${name ?? p.field}: ${ruleText(p)}`;
}

// The nav bar's tabs (Fleet, Firmware, Scheduled, Activity, Agents): buttons with arrow-key
// moves between them, one panel shown at a time, and each view told when it opens and closes
// (the Scheduled tab polls only while open).
import { el } from "./dom";

export interface Tab {
  id: string;
  label: string;
  panel: HTMLElement;
  onShow?: () => void;
  onHide?: () => void;
}

export interface Tabs {
  show(id: string): void;
  current(): string;
}

export function createTabs(nav: HTMLElement, main: HTMLElement, tabs: Tab[]): Tabs {
  const list = el("div", "nav-tabs", undefined, "tabs");
  list.setAttribute("role", "tablist");
  list.setAttribute("aria-label", "Views");
  let current = "";
  const buttons = new Map<string, HTMLButtonElement>();

  for (const tab of tabs) {
    const b = el("button", `nav-${tab.id}`, tab.label, "tab");
    b.type = "button";
    b.id = `tab-${tab.id}`;
    b.setAttribute("role", "tab");
    b.setAttribute("aria-controls", `panel-${tab.id}`);
    b.addEventListener("click", () => show(tab.id));
    b.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (step === 0) return;
      e.preventDefault();
      const next = tabs[(i + step + tabs.length) % tabs.length];
      if (next) {
        show(next.id);
        buttons.get(next.id)?.focus();
      }
    });
    buttons.set(tab.id, b);
    list.append(b);
    tab.panel.id = `panel-${tab.id}`;
    tab.panel.setAttribute("role", "tabpanel");
    tab.panel.setAttribute("aria-labelledby", `tab-${tab.id}`);
    tab.panel.hidden = true;
    main.append(tab.panel);
  }
  nav.append(list);

  function show(id: string) {
    if (id === current) return;
    const before = tabs.find((t) => t.id === current);
    const after = tabs.find((t) => t.id === id);
    if (!after) return;
    if (before) {
      before.panel.hidden = true;
      before.onHide?.();
    }
    for (const [tid, b] of buttons) {
      const on = tid === id;
      b.setAttribute("aria-selected", String(on));
      // Only the open tab is in the Tab order; arrows move between tabs (the ARIA tabs pattern).
      b.tabIndex = on ? 0 : -1;
    }
    current = id;
    after.panel.hidden = false;
    after.onShow?.();
  }

  return { show, current: () => current };
}

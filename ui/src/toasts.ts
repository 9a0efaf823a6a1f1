// Short messages that come and go in a corner of the window (`toast`), and the desktop
// notification sent alongside through the OS.
import { notifyPerson } from "./backend";
import { el } from "./dom";

export interface Toasts {
  toast(text: string, kind?: "ok" | "error"): void;
}

export function createToasts(root: HTMLElement, lifetimeMs = 8000): Toasts {
  root.classList.add("toasts");
  root.setAttribute("aria-live", "polite");
  return {
    toast(text, kind) {
      const t = el("div", "toast", text, `toast ${kind ?? ""}`.trim());
      root.append(t);
      setTimeout(() => t.remove(), lifetimeMs);
    },
  };
}

/** A desktop notification through the OS (the in-app toast is shown beside it anyway). */
export function desktopNotify(title: string, body: string): void {
  void notifyPerson(title, body).catch(() => false);
}

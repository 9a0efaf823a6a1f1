// Short messages that come and go in a corner of the window (`toast`), and the desktop
// notification sent alongside when the system allows it.
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

let permissionAsked = false;

/** Asks once per run for permission to show desktop notifications, where the API exists. */
export function askNotificationPermission(): void {
  if (permissionAsked || typeof Notification === "undefined") return;
  permissionAsked = true;
  if (Notification.permission === "default") {
    void Promise.resolve(Notification.requestPermission()).catch(() => undefined);
  }
}

/** A desktop notification, if the API exists and permission was granted; otherwise nothing. */
export function desktopNotify(title: string, body: string): boolean {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return false;
  try {
    new Notification(title, { body });
    return true;
  } catch {
    return false;
  }
}

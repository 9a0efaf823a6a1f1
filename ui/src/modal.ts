// A modal dialog: a <dialog> shown with showModal where the web view has it (focus stays
// inside, the page behind is inert), Escape closes it, and the keyboard moves into it.
import { el } from "./dom";

export interface Modal {
  readonly root: HTMLDialogElement;
  close(): void;
  onClose(cb: () => void): void;
}

/**
 * Opens a modal of `children`. `escapeCloses` false keeps it open on Escape (the approval
 * dialog waits for an answer: closed, the request would be hidden but still pending).
 */
export function openModal(testid: string, children: HTMLElement[], label?: string, escapeCloses = true): Modal {
  const root = el("dialog", testid, undefined, "modal");
  root.setAttribute("aria-modal", "true");
  if (label) root.setAttribute("aria-label", label);
  root.append(...children);
  document.body.append(root);
  const closers: (() => void)[] = [];
  // The keyboard goes back where it was (the button that opened the dialog) on close.
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (typeof root.close === "function" && root.open) root.close();
    root.remove();
    if (opener?.isConnected) opener.focus();
    for (const cb of closers) cb();
  };
  // The native Escape handling fires "cancel"; without native dialogs, listen for the key.
  root.addEventListener("cancel", (e) => {
    e.preventDefault();
    if (escapeCloses) close();
  });
  root.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      if (escapeCloses) close();
    }
  });
  try {
    if (typeof root.showModal === "function") root.showModal();
    else root.setAttribute("open", "");
  } catch {
    root.setAttribute("open", "");
  }
  return { root, close, onClose: (cb) => closers.push(cb) };
}

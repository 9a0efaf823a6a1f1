// Small helpers every view uses to build its elements: a tag with a test id and text, and the
// message of whatever was thrown.
import { BackendError } from "./backend";

/** A new `tag` element with `data-testid` (when given) and text content (when given). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  testid?: string,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (testid) node.dataset.testid = testid;
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** A `<button type="button">`: never submits a form by accident. */
export function button(testid: string, text: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", testid, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

/** A labelled field: `<label>text <control></label>`, so clicking the text focuses the control. */
export function labelled(text: string, control: HTMLElement, ...after: HTMLElement[]): HTMLLabelElement {
  const label = el("label", undefined, undefined, "field");
  const caption = el("span", undefined, text, "field-caption");
  label.append(caption, control, ...after);
  return label;
}

/** What to tell the user about a failure, whatever was thrown. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "string") return err;
  return JSON.stringify(err);
}

/** The facade's error code, or null for anything else (a bug, a Tauri failure). */
export function errorCode(err: unknown): BackendError["code"] | null {
  return err instanceof BackendError ? err.code : null;
}

// The banner above the views for failures that are not one form's business: an expired
// sign-in (with a button to sign in again) and cloud failures (with Retry). It never clears
// loaded data or typed values; it only tells.
import { signIn } from "./backend";
import { button, el, errorCode, errorText } from "./dom";

export interface ErrorBanner {
  /** Shows `err`; `retry` (for cloud failures) redoes what failed. */
  report(err: unknown, retry?: () => void): void;
  clear(): void;
}

export function createErrorBanner(root: HTMLElement): ErrorBanner {
  root.classList.add("banners");
  const session = el("div", "session-banner", undefined, "banner warning-banner");
  session.setAttribute("role", "alert");
  session.hidden = true;
  const signInAgain = button("session-banner-sign-in", "Sign in again", () => {
    signIn(false)
      .then(() => {
        session.hidden = true;
      })
      .catch((err: unknown) => showOther(errorText(err)));
  });
  session.append(el("span", undefined, "Your sign-in has expired: "), signInAgain);

  const other = el("div", "error-banner", undefined, "banner error-banner");
  other.setAttribute("role", "alert");
  other.hidden = true;
  const message = el("span", "error-banner-message");
  let retryAction: (() => void) | null = null;
  const retry = button("error-retry", "Retry", () => {
    other.hidden = true;
    retryAction?.();
  });
  const dismiss = button("error-dismiss", "×", () => {
    other.hidden = true;
  });
  dismiss.setAttribute("aria-label", "Dismiss");
  other.append(message, retry, dismiss);
  root.append(session, other);

  function showOther(text: string, again?: () => void) {
    message.textContent = text;
    retryAction = again ?? null;
    retry.hidden = again === undefined;
    other.hidden = false;
  }

  return {
    report(err, again) {
      if (errorCode(err) === "sign_in_needed") {
        session.hidden = false;
        return;
      }
      showOther(errorText(err), again);
    },
    clear() {
      session.hidden = true;
      other.hidden = true;
    },
  };
}

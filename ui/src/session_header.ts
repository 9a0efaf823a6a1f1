// The header of the main window: who is signed in, the tenant and the time left on the token
// (a warning near expiry), with Sign in (or, where the identity provider refuses the embedded
// login window, Sign in with Chromium), Refresh and Sign out. When a silent refresh fails, it
// offers Sign in again instead of Refresh, which opens the login window for the person.
import { sessionStatus, signIn, signInWithChromium, signOut, type SessionInfo } from "./backend";
import { TenantNames } from "./tenant_names";

/** Under this many seconds left, the time left turns into a warning. */
export const WARN_SECONDS = 5 * 60;

/** "42 min", "1 h 05 min", "expired". */
export function timeLeftText(secondsLeft: number): string {
  if (secondsLeft <= 0) return "expired";
  const minutes = Math.floor(secondsLeft / 60);
  if (minutes < 1) return `${Math.floor(secondsLeft)} s`;
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  testid: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.dataset.testid = testid;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draws `info` into `header`; `act` runs a button's action and redraws. `tenantName` is the
 * tenant's name when known (the id then goes to the tooltip).
 */
export function drawHeader(
  header: HTMLElement,
  info: SessionInfo,
  nowSeconds: number,
  act: (action: () => Promise<SessionInfo>) => void,
  tenantName: string | null = null,
): void {
  const parts: HTMLElement[] = [];
  if (info.signedIn) {
    parts.push(el("span", "session-user", info.user ?? "signed in"));
    if (info.tenant) {
      const tenant = el("span", "session-tenant", `Tenant ${tenantName ?? info.tenant}`);
      tenant.title = `Tenant id ${info.tenant}`;
      parts.push(tenant);
    }
    if (info.expiresAt !== null) {
      const left = info.expiresAt - nowSeconds;
      const time = el("span", "session-time-left", `Token: ${timeLeftText(left)} left`);
      if (left < WARN_SECONDS) {
        time.className = "warning";
        time.setAttribute("role", "alert");
      }
      parts.push(time);
    }
    if (info.lastError?.code === "sign_in_needed") {
      // The silent refresh failed: the IdP session is gone, so only the person can sign in.
      const again = el("button", "session-sign-in-again", "Sign in again");
      again.onclick = () => act(() => signIn(false));
      parts.push(again);
    } else {
      const refresh = el("button", "session-refresh", info.signingIn ? "Refreshing…" : "Refresh");
      refresh.disabled = info.signingIn;
      refresh.onclick = () => act(() => signIn(true));
      parts.push(refresh);
    }
    const out = el("button", "session-sign-out", "Sign out");
    out.onclick = () => act(signOut);
    parts.push(out);
  } else if (info.profile !== null) {
    parts.push(el("span", "session-user", info.signingIn ? "Signing in…" : "Not signed in"));
    const button = el("button", "session-sign-in", "Sign in");
    button.onclick = () => act(() => signIn(false));
    const chromium = el("button", "session-sign-in-chromium", "Sign in with Chromium");
    chromium.title = "For sign-in pages that refuse the app's own login window";
    chromium.onclick = () => act(signInWithChromium);
    parts.push(button, chromium);
  } else {
    parts.push(el("span", "session-user", "No profile set up"));
  }
  if (info.lastError) {
    const error = el("span", "session-error", info.lastError.message);
    error.className = "error";
    error.setAttribute("role", "alert");
    parts.push(error);
  }
  header.replaceChildren(...parts);
}

/**
 * Shows the session in `header` and keeps it current (every second). `onSession` hears every
 * answer, so the rest of the window knows whether someone is signed in without polling twice.
 * Returns a stop function.
 */
export function startHeader(
  header: HTMLElement,
  now: () => number = () => Date.now() / 1000,
  onSession: (info: SessionInfo) => void = () => undefined,
  names: TenantNames = new TenantNames(),
): () => void {
  header.dataset.testid = "session-header";
  let info: SessionInfo | null = null;
  // What was last drawn: the poll answers every second, and redrawing an unchanged header
  // would replace its buttons under a pointer (or a test's click) for nothing.
  let drawn = "";
  const redraw = () => {
    if (info) {
      if (!info.signedIn) names.clear();
      const name = info.signedIn && info.tenant ? names.nameOf(info.tenant, redraw) : null;
      const left = info.expiresAt === null ? null : info.expiresAt - now();
      const shown = JSON.stringify([info, name, left === null ? null : [timeLeftText(left), left < WARN_SECONDS]]);
      if (shown !== drawn) {
        drawHeader(header, info, now(), act, name);
        drawn = shown;
      }
      onSession(info);
    }
  };
  const act = (action: () => Promise<SessionInfo>) => {
    action()
      .then((next) => {
        info = next;
        redraw();
      })
      .catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (info) info = { ...info, lastError: { code: "internal", message, problems: [], preview: null } };
        redraw();
      });
  };
  const poll = () => {
    sessionStatus()
      .then((next) => {
        info = next;
        redraw();
      })
      .catch(() => undefined);
  };
  poll();
  const timer = setInterval(poll, 1000);
  return () => clearInterval(timer);
}

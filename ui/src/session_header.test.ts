// Tests of the session header with the back-end facade mocked.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { signIn, signInWithChromium, signOut, type SessionInfo } from "./backend";
import { drawHeader, timeLeftText } from "./session_header";
import { TenantNames } from "./tenant_names";

vi.mock("./backend", () => ({ signIn: vi.fn(), signInWithChromium: vi.fn(), signOut: vi.fn(), sessionStatus: vi.fn() }));

const signedIn: SessionInfo = {
  profile: "demo",
  signedIn: true,
  user: "fleet.admin@example.com",
  tenant: "0b5c2a7e-0000-4000-8000-000000000001",
  expiresAt: 10_000,
  signingIn: false,
  lastError: null,
};

function byTestId(root: HTMLElement, id: string): HTMLElement | null {
  return root.querySelector(`[data-testid="${id}"]`);
}

describe("session header", () => {
  let header: HTMLElement;
  beforeEach(() => {
    vi.mocked(signIn).mockReset();
    vi.mocked(signOut).mockReset();
    header = document.createElement("header");
  });

  it("shows the user, the tenant and the time left", () => {
    drawHeader(header, signedIn, 10_000 - 3600, () => {});
    expect(byTestId(header, "session-user")?.textContent).toBe("fleet.admin@example.com");
    expect(byTestId(header, "session-tenant")?.textContent).toContain("0b5c2a7e");
    const time = byTestId(header, "session-time-left");
    expect(time?.textContent).toBe("Token: 1 h 00 min left");
    expect(time?.getAttribute("role")).toBeNull();
  });

  it("names the tenant when its name is known, keeping the id in the tooltip", () => {
    drawHeader(header, signedIn, 10_000 - 3600, () => {}, "Acme Printing");
    const tenant = byTestId(header, "session-tenant");
    expect(tenant?.textContent).toBe("Tenant Acme Printing");
    expect(tenant?.title).toBe(`Tenant id ${signedIn.tenant}`);
  });

  it("learns tenant names once, and keeps the id when the cloud cannot say", async () => {
    const list = vi.fn(() => Promise.resolve([{ group_id: "g1", name: "Acme Printing" }]));
    const names = new TenantNames(list);
    const learned = vi.fn();
    expect(names.nameOf("g1", learned)).toBeNull();
    expect(names.nameOf("g1", learned)).toBeNull();
    await Promise.resolve();
    await Promise.resolve();
    expect(learned).toHaveBeenCalledOnce();
    expect(names.nameOf("g1")).toBe("Acme Printing");
    expect(list).toHaveBeenCalledOnce();

    const failing = new TenantNames(() => Promise.reject(new Error("403")));
    expect(failing.nameOf("g1")).toBeNull();
    await Promise.resolve();
    await Promise.resolve();
    expect(failing.nameOf("g1")).toBeNull();
  });

  it("warns near expiry", () => {
    drawHeader(header, signedIn, 10_000 - 120, () => {});
    const time = byTestId(header, "session-time-left");
    expect(time?.textContent).toBe("Token: 2 min left");
    expect(time?.className).toBe("warning");
    expect(time?.getAttribute("role")).toBe("alert");
  });

  it("Refresh signs in silently and Sign out signs out", () => {
    const actions: (() => Promise<SessionInfo>)[] = [];
    drawHeader(header, signedIn, 0, (action) => actions.push(action));
    byTestId(header, "session-refresh")?.click();
    byTestId(header, "session-sign-out")?.click();
    expect(actions).toHaveLength(2);
    void actions[0]?.();
    void actions[1]?.();
    expect(vi.mocked(signIn)).toHaveBeenCalledWith(true);
    expect(vi.mocked(signOut)).toHaveBeenCalledOnce();
  });

  it("while a refresh runs, Refresh waits; there is no Sign in again without a failure", () => {
    drawHeader(header, { ...signedIn, signingIn: true }, 0, () => {});
    const refresh = byTestId(header, "session-refresh") as HTMLButtonElement | null;
    expect(refresh?.textContent).toBe("Refreshing…");
    expect(refresh?.disabled).toBe(true);
    expect(byTestId(header, "session-sign-in-again")).toBeNull();
  });

  it("after a failed silent refresh, offers Sign in again with the login window instead of Refresh", () => {
    const actions: (() => Promise<SessionInfo>)[] = [];
    const message = "the session could not be refreshed silently: sign in again";
    drawHeader(
      header,
      { ...signedIn, lastError: { code: "sign_in_needed", message, problems: [], preview: null } },
      0,
      (action) => actions.push(action),
    );
    expect(byTestId(header, "session-error")?.textContent).toBe(message);
    expect(byTestId(header, "session-refresh")).toBeNull();
    byTestId(header, "session-sign-in-again")?.click();
    expect(actions).toHaveLength(1);
    void actions[0]?.();
    expect(vi.mocked(signIn)).toHaveBeenCalledWith(false);
  });

  it("offers Sign in when signed out, and shows the last error", () => {
    const actions: (() => Promise<SessionInfo>)[] = [];
    drawHeader(
      header,
      { ...signedIn, signedIn: false, user: null, tenant: null, expiresAt: null, lastError: { code: "token_rejected", message: "bad signature", problems: [], preview: null } },
      0,
      (action) => actions.push(action),
    );
    expect(byTestId(header, "session-user")?.textContent).toBe("Not signed in");
    byTestId(header, "session-sign-in")?.click();
    void actions[0]?.();
    expect(vi.mocked(signIn)).toHaveBeenCalledWith(false);
    expect(byTestId(header, "session-error")?.textContent).toBe("bad signature");
  });

  it("offers Sign in with Chromium when signed out", () => {
    const actions: (() => Promise<SessionInfo>)[] = [];
    const out = { ...signedIn, signedIn: false, user: null, tenant: null, expiresAt: null };
    drawHeader(header, out, 0, (action) => actions.push(action));
    byTestId(header, "session-sign-in-chromium")?.click();
    expect(actions).toHaveLength(1);
    void actions[0]?.();
    expect(vi.mocked(signInWithChromium)).toHaveBeenCalledOnce();
    expect(vi.mocked(signIn)).not.toHaveBeenCalled();
  });

  it("writes the time left in words", () => {
    expect(timeLeftText(-5)).toBe("expired");
    expect(timeLeftText(42)).toBe("42 s");
    expect(timeLeftText(3 * 3600 + 5 * 60)).toBe("3 h 05 min");
  });
});

// Tests of the Settings tab with the facade mocked: the profile list, rmm-core's problems shown
// beside their fields with what was typed kept, the write-only subscription key, switching.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { listProfiles, saveProfile, startDemo, useProfile, type ProfileInput, type ProfileList } from "./backend";
import { createSettingsView } from "./settings_view";
import { backendError, byTestId, allByTestId, settle } from "./test_fixtures";

vi.mock("./backend", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./backend")>()),
  listProfiles: vi.fn(),
  saveProfile: vi.fn(),
  useProfile: vi.fn(),
  startDemo: vi.fn(),
}));

const office = {
  name: "office",
  loginUrl: "https://login.example.com/authorize",
  apiBaseUrl: "https://api.example.com/rmm/",
  dashboardUrl: "https://dashboard.example.com/",
  idpUrl: null,
  timeZone: "UTC+01:00",
  chromiumPath: null,
  hasSubscriptionKey: true,
  username: "admin@example.com",
  hasPassword: false,
};

function listed(over: Partial<ProfileList> = {}): ProfileList {
  return { profiles: [office], active: "office", demoActive: false, switched: false, ...over };
}

function type(root: HTMLElement, id: string, value: string) {
  const input = byTestId<HTMLInputElement>(root, id);
  if (!input) throw new Error(`no ${id}`);
  input.value = value;
  input.dispatchEvent(new Event("input"));
}

function submit(root: HTMLElement) {
  byTestId<HTMLFormElement>(root, "profile-form")?.dispatchEvent(new Event("submit", { cancelable: true }));
}

describe("the Settings tab", () => {
  let toasts: { toast: ReturnType<typeof vi.fn> };
  let changed: ReturnType<typeof vi.fn>;
  beforeEach(() => {
    vi.mocked(listProfiles).mockReset().mockResolvedValue(listed());
    vi.mocked(saveProfile).mockReset();
    vi.mocked(useProfile).mockReset();
    vi.mocked(startDemo).mockReset();
    toasts = { toast: vi.fn() };
    changed = vi.fn();
  });

  function view() {
    const v = createSettingsView({ toasts, onProfileChanged: changed });
    document.body.replaceChildren(v.root);
    return v;
  }

  it("lists the profiles, the one in use and whether a key is stored, never the key", async () => {
    const v = view();
    await v.load();
    const rows = allByTestId(v.root, "profile-row");
    expect(rows).toHaveLength(1);
    expect(byTestId(v.root, "profile-row-name")?.textContent).toBe("office");
    expect(byTestId(v.root, "profile-row-active")?.textContent).toBe("in use");
    expect(byTestId(v.root, "profile-row-key")?.textContent).toBe("key stored");
    expect(byTestId(v.root, "profile-use")).toBeNull();

    byTestId(v.root, "profile-edit")?.click();
    expect(byTestId<HTMLInputElement>(v.root, "profile-name")?.value).toBe("office");
    expect(byTestId<HTMLInputElement>(v.root, "profile-name")?.readOnly).toBe(true);
    expect(byTestId<HTMLInputElement>(v.root, "profile-time-zone")?.value).toBe("UTC+01:00");
    const key = byTestId<HTMLInputElement>(v.root, "profile-subscription-key");
    expect(key?.type).toBe("password");
    expect(key?.value).toBe("");
    expect(byTestId(v.root, "profile-key-state")?.textContent).toContain("A key is stored");
    expect(byTestId<HTMLInputElement>(v.root, "profile-username")?.value).toBe("admin@example.com");
    expect(byTestId<HTMLInputElement>(v.root, "profile-password")?.type).toBe("password");
    expect(byTestId(v.root, "profile-password-state")?.textContent).toBe("No password stored.");
  });

  it("shows rmm-core's problems beside their fields and keeps what was typed", async () => {
    vi.mocked(saveProfile).mockRejectedValue(
      backendError({
        code: "bad_input",
        problems: [
          { field: "time_zone", rule: '"UTC+5" must be UTC±hh:mm, e.g. UTC+05:30 or UTC-08:00 (hours 00-14, minutes 00-59)' },
          { field: "api_base_url", rule: "is required: an http(s) URL" },
          { field: "idp_url", rule: '"idp.example.com" is not an absolute URL' },
        ],
      }),
    );
    const v = view();
    await v.load();
    v.newProfile();
    type(v.root, "profile-name", "lab");
    type(v.root, "profile-login-url", "https://login.example.com/");
    type(v.root, "profile-idp-url", "idp.example.com");
    type(v.root, "profile-subscription-key", "k-typed");
    type(v.root, "profile-time-zone", "UTC+5");
    submit(v.root);
    await settle();

    const sent = vi.mocked(saveProfile).mock.calls[0]?.[0] as ProfileInput;
    expect(sent).toEqual({
      name: "lab",
      loginUrl: "https://login.example.com/",
      apiBaseUrl: "",
      dashboardUrl: "",
      idpUrl: "idp.example.com",
      timeZone: "UTC+5",
      chromiumPath: "",
      subscriptionKey: "k-typed",
      username: "",
      password: null,
    });
    const tz = byTestId(v.root, "problem-time_zone");
    expect(tz?.hidden).toBe(false);
    expect(tz?.textContent).toContain("UTC±hh:mm");
    expect(tz?.getAttribute("role")).toBe("alert");
    expect(byTestId(v.root, "problem-api_base_url")?.textContent).toBe("is required: an http(s) URL");
    expect(byTestId(v.root, "problem-idp_url")?.textContent).toContain("not an absolute URL");
    expect(byTestId<HTMLInputElement>(v.root, "profile-idp-url")?.value).toBe("idp.example.com");
    expect(byTestId(v.root, "problem-name")?.hidden).toBe(true);
    // Nothing typed is lost.
    expect(byTestId<HTMLInputElement>(v.root, "profile-time-zone")?.value).toBe("UTC+5");
    expect(byTestId<HTMLInputElement>(v.root, "profile-name")?.value).toBe("lab");
    expect(byTestId<HTMLInputElement>(v.root, "profile-subscription-key")?.value).toBe("k-typed");
    expect(byTestId(v.root, "profile-form")?.hidden).toBe(false);
    expect(changed).not.toHaveBeenCalled();
  });

  it("an empty key field sends no key, and a save into use tells the window", async () => {
    vi.mocked(saveProfile).mockResolvedValue(listed({ switched: true }));
    const v = view();
    await v.load();
    byTestId(v.root, "profile-edit")?.click();
    type(v.root, "profile-api-base", "https://api2.example.com/");
    submit(v.root);
    await settle();
    expect(vi.mocked(saveProfile).mock.calls[0]?.[0].subscriptionKey).toBeNull();
    expect(vi.mocked(saveProfile).mock.calls[0]?.[0].password).toBeNull();
    expect(vi.mocked(saveProfile).mock.calls[0]?.[0].username).toBe("admin@example.com");
    // The addresses shown are sent back as they were.
    expect(vi.mocked(saveProfile).mock.calls[0]?.[0].dashboardUrl).toBe("https://dashboard.example.com/");
    expect(vi.mocked(saveProfile).mock.calls[0]?.[0].idpUrl).toBe("");
    expect(byTestId(v.root, "profile-form")?.hidden).toBe(true);
    expect(changed).toHaveBeenCalledOnce();
    expect(toasts.toast).toHaveBeenCalledWith("Profile office saved and in use", "ok");
  });

  it("a failure other than bad input shows in the form, not beside a field", async () => {
    vi.mocked(saveProfile).mockRejectedValue(backendError({ code: "no_keyring", message: "the OS keyring cannot be reached" }));
    const v = view();
    await v.load();
    v.newProfile();
    type(v.root, "profile-name", "lab");
    submit(v.root);
    await settle();
    expect(byTestId(v.root, "profile-form-error")?.textContent).toBe("the OS keyring cannot be reached");
    expect(byTestId(v.root, "profile-form-error")?.hidden).toBe(false);
  });

  it("Use the demo switches to the simulator, and a failure shows above the list", async () => {
    vi.mocked(startDemo).mockRejectedValueOnce(backendError({ code: "local", message: "no free port" }));
    const v = view();
    await v.load();
    byTestId(v.root, "settings-use-demo")?.click();
    await settle();
    expect(byTestId(v.root, "settings-error")?.textContent).toBe("no free port");
    expect(changed).not.toHaveBeenCalled();

    vi.mocked(startDemo).mockResolvedValueOnce({
      profile: "demo", signedIn: false, user: null, tenant: null, expiresAt: null, signingIn: false, lastError: null,
    });
    vi.mocked(listProfiles).mockResolvedValue(listed({ active: "demo", demoActive: true }));
    byTestId(v.root, "settings-use-demo")?.click();
    await settle();
    expect(changed).toHaveBeenCalledOnce();
    expect(byTestId(v.root, "settings-use-demo")).toBeNull();
    expect(byTestId(v.root, "profile-demo-active")).not.toBeNull();
    expect(byTestId(v.root, "settings-error")?.hidden).toBe(true);
  });

  it("Use switches the app to another profile", async () => {
    vi.mocked(listProfiles).mockResolvedValue(listed({ active: "demo", demoActive: true }));
    vi.mocked(useProfile).mockResolvedValue({
      profile: "office", signedIn: false, user: null, tenant: null, expiresAt: null, signingIn: false, lastError: null,
    });
    const v = view();
    await v.load();
    expect(byTestId(v.root, "profile-demo-active")).not.toBeNull();
    byTestId(v.root, "profile-use")?.click();
    await settle();
    expect(vi.mocked(useProfile)).toHaveBeenCalledWith("office");
    expect(changed).toHaveBeenCalledOnce();
  });
});

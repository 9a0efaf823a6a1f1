// The Settings tab: the profiles (shared with the `rmm` command line), which one the app uses,
// switching to another, and a form to add or edit one (name, login URL, API base, dashboard
// and identity-provider addresses, subscription key, time zone, Chromium path, and the user name
// and password that Sign in with Chromium types). Saving other addresses forgets the profile's
// token: its secrets are bound to the addresses they were saved for. Every rule is rmm-core's: its problems come back field by field and show beside the
// fields, with what was typed kept. The subscription key and the password are write-only: the
// form says whether one is stored, never what it is.
import {
  BackendError,
  listProfiles,
  saveProfile,
  startDemo,
  useProfile,
  type ProfileInput,
  type ProfileList,
  type ProfileSummary,
} from "./backend";
import { button, el, errorText, labelled } from "./dom";
import { createAgentLimitsForm } from "./agent_limits_form";
import { ProblemSlots } from "./form_problems";
import type { Toasts } from "./toasts";

/** The form's fields, named as rmm-core names them in its problems. */
export const PROFILE_FIELDS = [
  "name",
  "login_url",
  "api_base_url",
  "dashboard_url",
  "idp_url",
  "subscription_key",
  "time_zone",
  "chromium_path",
  "username",
  "password",
] as const;

export interface SettingsView {
  readonly root: HTMLElement;
  /** Reads the profiles again. */
  load(): Promise<void>;
  /** Opens the form for a new profile. */
  newProfile(): void;
}

export interface SettingsDeps {
  toasts: Toasts;
  /** The app now uses another profile (or a profile was saved into use). */
  onProfileChanged: () => void;
}

function input(testid: string, placeholder = "", type = "text"): HTMLInputElement {
  const i = el("input", testid);
  i.type = type;
  i.placeholder = placeholder;
  i.autocomplete = "off";
  i.spellcheck = false;
  return i;
}

export function createSettingsView(deps: SettingsDeps): SettingsView {
  const { toasts } = deps;
  const root = el("section", "settings-view", undefined, "view settings-view");
  const heading = el("h2", undefined, "Profiles");
  const listError = el("div", "settings-error", undefined, "error");
  listError.hidden = true;
  listError.setAttribute("role", "alert");
  const list = el("ul", "profile-list", undefined, "profile-list");
  const add = button("profile-add", "Add a profile", () => newProfile());

  // The form.
  const form = el("form", "profile-form", undefined, "profile-form");
  form.hidden = true;
  const formTitle = el("h3", "profile-form-title", "New profile");
  const slots = new ProblemSlots(PROFILE_FIELDS);
  const name = input("profile-name", "office (letters, digits, - or _)");
  const loginUrl = input("profile-login-url", "https://…/authorize?…", "url");
  const apiBase = input("profile-api-base", "https://…/rmm/", "url");
  const dashboard = input("profile-dashboard-url", "https://… (the page the sign-in returns to)", "url");
  const idp = input("profile-idp-url", "https://… (Sharp-Start's sign-in page; empty: found at sign-in)", "url");
  const key = input("profile-subscription-key", "", "password");
  const keyState = el("span", "profile-key-state", undefined, "muted");
  const timeZone = input("profile-time-zone", "UTC+01:00 (empty: the cloud's default)");
  const chromium = input("profile-chromium-path", "/usr/bin/chromium (empty: found on the system)");
  const username = input("profile-username", "you@example.com");
  const password = input("profile-password", "", "password");
  const passwordState = el("span", "profile-password-state", undefined, "muted");
  const formError = el("div", "profile-form-error", undefined, "error");
  formError.hidden = true;
  formError.setAttribute("role", "alert");
  const save = el("button", "profile-save", "Save");
  save.type = "submit";
  const cancel = button("profile-cancel", "Cancel", () => {
    form.hidden = true;
  });
  const actions = el("div", undefined, undefined, "form-actions");
  actions.append(save, cancel);
  form.append(
    formTitle,
    labelled("Name", name, slots.slot("name")),
    labelled("Login URL", loginUrl, slots.slot("login_url")),
    labelled("API base", apiBase, slots.slot("api_base_url")),
    labelled("Dashboard URL", dashboard, slots.slot("dashboard_url")),
    labelled("Identity provider URL (the password is typed only there)", idp, slots.slot("idp_url")),
    labelled("Subscription key (kept in the OS keyring)", key, keyState, slots.slot("subscription_key")),
    labelled("Time zone (UTC±hh:mm)", timeZone, slots.slot("time_zone")),
    labelled("Chromium path", chromium, slots.slot("chromium_path")),
    el("p", undefined, "For Sign in with Chromium (sign-in pages that refuse the app's own login window):", "muted"),
    labelled("User name", username, slots.slot("username")),
    labelled("Password (kept in the OS keyring)", password, passwordState, slots.slot("password")),
    slots.general,
    formError,
    actions,
  );
  const limits = createAgentLimitsForm(toasts);
  root.append(heading, listError, list, add, form, limits.root);

  let profiles: ProfileSummary[] = [];
  let saving = false;

  function showPasswordState(stored: boolean) {
    passwordState.textContent = stored
      ? "A password is stored. Type a new one to replace it; leave empty to keep it."
      : "No password stored.";
    password.placeholder = stored ? "stored (leave empty to keep)" : "";
  }

  function showKeyState(stored: boolean) {
    keyState.textContent = stored
      ? "A key is stored. Type a new one to replace it; leave empty to keep it."
      : "No key stored.";
    key.placeholder = stored ? "stored (leave empty to keep)" : "";
  }

  function openForm(profile: ProfileSummary | null) {
    slots.clear();
    formError.hidden = true;
    formTitle.textContent = profile ? `Edit ${profile.name}` : "New profile";
    name.value = profile?.name ?? "";
    // A profile's name names its keyring entries: it is not renamed here.
    name.readOnly = profile !== null;
    loginUrl.value = profile?.loginUrl ?? "";
    apiBase.value = profile?.apiBaseUrl ?? "";
    dashboard.value = profile?.dashboardUrl ?? "";
    idp.value = profile?.idpUrl ?? "";
    key.value = "";
    timeZone.value = profile?.timeZone ?? "";
    chromium.value = profile?.chromiumPath ?? "";
    showKeyState(profile?.hasSubscriptionKey ?? false);
    username.value = profile?.username ?? "";
    password.value = "";
    showPasswordState(profile?.hasPassword ?? false);
    form.hidden = false;
    (profile ? loginUrl : name).focus();
  }

  function newProfile() {
    openForm(null);
  }

  function row(p: ProfileSummary, current: ProfileList): HTMLElement {
    const item = el("li", "profile-row", undefined, "profile-row");
    item.dataset.name = p.name;
    const inUse = current.active === p.name && !current.demoActive;
    item.append(
      el("strong", "profile-row-name", p.name),
      el("span", "profile-row-api", p.apiBaseUrl ?? "no API base", "muted"),
      el("span", "profile-row-key", p.hasSubscriptionKey ? "key stored" : "no key", "muted"),
    );
    if (inUse) {
      item.append(el("span", "profile-row-active", "in use", "ok"));
    } else {
      item.append(button("profile-use", "Use", () => void use(p.name)));
    }
    item.append(button("profile-edit", "Edit", () => openForm(p)));
    return item;
  }

  function render(current: ProfileList) {
    profiles = current.profiles;
    const rows = profiles.map((p) => row(p, current));
    if (rows.length === 0) {
      rows.push(el("li", "profile-none", "No profile yet: add one below.", "muted"));
    }
    if (current.demoActive) {
      rows.unshift(el("li", "profile-demo-active", "The app uses the demo (the built-in simulator).", "muted"));
    } else {
      const demo = el("li", undefined, undefined, "profile-row");
      demo.append(
        el("span", undefined, "The demo: a simulated cloud inside the app", "muted"),
        button("settings-use-demo", "Use the demo", () => void useDemo()),
      );
      rows.push(demo);
    }
    list.replaceChildren(...rows);
  }

  function showListError(err: unknown) {
    listError.textContent = errorText(err);
    listError.hidden = false;
  }

  async function load() {
    void limits.load();
    try {
      const current = await listProfiles();
      listError.hidden = true;
      render(current);
    } catch (err) {
      showListError(err);
    }
  }

  async function use(profile: string) {
    try {
      await useProfile(profile);
      toasts.toast(`Now using ${profile}`, "ok");
      deps.onProfileChanged();
      await load();
    } catch (err) {
      showListError(err);
    }
  }

  async function useDemo() {
    try {
      await startDemo();
      toasts.toast("Now using the demo", "ok");
      deps.onProfileChanged();
      await load();
    } catch (err) {
      showListError(err);
    }
  }

  function formInput(): ProfileInput {
    return {
      name: name.value,
      loginUrl: loginUrl.value,
      apiBaseUrl: apiBase.value,
      dashboardUrl: dashboard.value,
      idpUrl: idp.value,
      timeZone: timeZone.value,
      chromiumPath: chromium.value,
      subscriptionKey: key.value === "" ? null : key.value,
      username: username.value,
      password: password.value === "" ? null : password.value,
    };
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (saving) return;
    saving = true;
    save.disabled = true;
    slots.clear();
    formError.hidden = true;
    const sent = formInput();
    saveProfile(sent)
      .then((current) => {
        key.value = "";
        password.value = "";
        form.hidden = true;
        render(current);
        toasts.toast(current.switched ? `Profile ${sent.name.trim()} saved and in use` : `Profile ${sent.name.trim()} saved`, "ok");
        if (current.switched) deps.onProfileChanged();
      })
      .catch((err: unknown) => {
        // What was typed stays; the problems show beside their fields.
        if (err instanceof BackendError && err.problems.length > 0) {
          slots.show(err.problems);
        } else {
          formError.textContent = errorText(err);
          formError.hidden = false;
        }
      })
      .finally(() => {
        saving = false;
        save.disabled = false;
      });
  });

  return { root, load, newProfile };
}

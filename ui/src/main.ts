// Entry point of the front end: the session header, the nav tabs and their views (Settings with
// the profiles among them), the first-run screen while the app has no profile, the error
// banner, the toasts and the global approval dialog, wired to the facade's events.
import "./style.css";
import { renderAbout } from "./about_line";
import { createActivityView } from "./activity_view";
import { createAgentsView } from "./agents_view";
import { createApprovalDialog } from "./approval_dialog";
import { onApprovalRequested, onApprovalSettled, onMcpActivity, onRolloutApprovalRequested, type AgentSession } from "./backend";
import { el } from "./dom";
import { createErrorBanner } from "./error_banner";
import { createFirmwareView } from "./firmware_view";
import { FleetStore } from "./fleet_store";
import { createFirstRun } from "./first_run";
import { createFleetView } from "./fleet_view";
import { createRolloutsView } from "./rollouts_view";
import { createScheduledView } from "./scheduled_view";
import { startHeader } from "./session_header";
import { createSettingsView } from "./settings_view";
import { createTabs } from "./tabs";
import { createToasts } from "./toasts";

function byId(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found) return found;
  const made = el("div");
  made.id = id;
  document.body.append(made);
  return made;
}

const banner = createErrorBanner(byId("banners"));
const toasts = createToasts(byId("toasts"));
const store = new FleetStore();

const activity = createActivityView(banner);
const fleet = createFleetView({ store, banner, toasts, onChangeApplied: () => void activity.refresh() });
const firmware = createFirmwareView(banner);
const scheduled = createScheduledView({ store, banner, toasts });
const agents = createAgentsView({ banner, toasts });
const rollouts = createRolloutsView({ banner, toasts, selection: () => fleet.selectedIds() });

const settings = createSettingsView({ toasts, onProfileChanged: () => void renderAbout(byId("about")) });

// The views sit in their own box, so that the first-run screen can take their place.
const views = el("div", "views", undefined, "views");
const firstRun = createFirstRun({
  onDemoStarted: () => {
    settingUp = false;
    void renderAbout(byId("about"));
  },
  onSetUp: () => {
    settingUp = true;
    showViews(true);
    tabs.show("settings");
    settings.newProfile();
  },
});
byId("app").append(firstRun.root, views);

const tabs = createTabs(byId("nav"), views, [
  { id: "fleet", label: "Fleet", panel: fleet.root },
  { id: "firmware", label: "Firmware", panel: firmware.root, onShow: () => void firmware.load() },
  { id: "scheduled", label: "Scheduled", panel: scheduled.root, onShow: scheduled.onShow, onHide: scheduled.onHide },
  { id: "rollouts", label: "Rollouts", panel: rollouts.root, onShow: rollouts.onShow, onHide: rollouts.onHide },
  { id: "activity", label: "Activity", panel: activity.root, onShow: () => void activity.refresh() },
  { id: "agents", label: "Agents", panel: agents.root, onShow: () => void agents.load() },
  { id: "settings", label: "Settings", panel: settings.root, onShow: () => void settings.load() },
]);
tabs.show("fleet");

/** The views and their tabs, or (false) the first-run screen in their place. */
function showViews(on: boolean) {
  views.hidden = !on;
  const tabList = byId("nav").querySelector<HTMLElement>('[data-testid="nav-tabs"]');
  if (tabList) tabList.hidden = !on;
  firstRun.show(!on);
}

let signedIn = false;
let tenant: string | null = null;
// While the user fills in their first profile, the first-run screen stays away.
let settingUp = false;
let profile: string | null | undefined = undefined;
startHeader(byId("session"), undefined, (info) => {
  if (info.profile !== profile) {
    const switched = profile !== undefined && profile !== null;
    profile = info.profile;
    showViews(profile !== null || settingUp);
    if (profile !== null) settingUp = false;
    if (switched) {
      // Another profile is another fleet.
      store.loaded = false;
      tenant = null;
      if (info.signedIn) void fleet.load();
    }
  }
  if (info.signedIn !== signedIn) {
    signedIn = info.signedIn;
    if (signedIn) banner.clear();
  }
  fleet.setSignedIn(info.signedIn);
  // Signed in to another tenant: that is another fleet.
  if (info.signedIn && info.tenant !== null) {
    if (tenant !== null && info.tenant !== tenant) void fleet.load();
    tenant = info.tenant;
  }
});

const approvals = createApprovalDialog();
void onApprovalRequested((a) => approvals.requested(a)).catch(() => undefined);
void onRolloutApprovalRequested((a) => approvals.requested(a)).catch(() => undefined);
void onApprovalSettled((s) => approvals.settled(s.id)).catch(() => undefined);
void onMcpActivity((list: AgentSession[]) => {
  agents.showAgents(list);
  activity.setAgentNames(list.map((a) => a.client));
}).catch(() => undefined);

void renderAbout(byId("about"));

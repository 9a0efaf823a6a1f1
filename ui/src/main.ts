// Entry point of the front end: the session header, the nav tabs and their views, the error
// banner, the toasts and the global approval dialog, wired to the facade's events.
import "./style.css";
import { renderAbout } from "./about_line";
import { createActivityView } from "./activity_view";
import { createAgentsView } from "./agents_view";
import { createApprovalDialog } from "./approval_dialog";
import { onApprovalRequested, onApprovalSettled, onMcpActivity, type AgentSession } from "./backend";
import { el } from "./dom";
import { createErrorBanner } from "./error_banner";
import { createFirmwareView } from "./firmware_view";
import { FleetStore } from "./fleet_store";
import { createFleetView } from "./fleet_view";
import { createScheduledView } from "./scheduled_view";
import { startHeader } from "./session_header";
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

const tabs = createTabs(byId("nav"), byId("app"), [
  { id: "fleet", label: "Fleet", panel: fleet.root },
  { id: "firmware", label: "Firmware", panel: firmware.root, onShow: () => void firmware.load() },
  { id: "scheduled", label: "Scheduled", panel: scheduled.root, onShow: scheduled.onShow, onHide: scheduled.onHide },
  { id: "activity", label: "Activity", panel: activity.root, onShow: () => void activity.refresh() },
  { id: "agents", label: "Agents", panel: agents.root, onShow: () => void agents.load() },
]);
tabs.show("fleet");

let signedIn = false;
let tenant: string | null = null;
startHeader(byId("session"), undefined, (info) => {
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
void onApprovalSettled((s) => approvals.settled(s.id)).catch(() => undefined);
void onMcpActivity((list: AgentSession[]) => {
  agents.showAgents(list);
  activity.setAgentNames(list.map((a) => a.client));
}).catch(() => undefined);

void renderAbout(byId("about"));

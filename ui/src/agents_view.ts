// The Agents tab: the MCP endpoint the app hosts for AI agents (on/off, port, read-only), the
// secret and ready-to-paste client configurations, and the agents connected with their calls.
import {
  mcpClientConfigs,
  mcpConfigure,
  mcpStatus,
  type AgentSession,
  type McpClientConfigs,
  type McpStatus,
} from "./backend";
import { button, el, errorText, labelled } from "./dom";
import type { ErrorBanner } from "./error_banner";
import { formatInstant } from "./time_zone";
import type { Toasts } from "./toasts";

export const MASK = "••••••••••••";

export interface AgentsView {
  readonly root: HTMLElement;
  load(): Promise<void>;
  showAgents(agents: AgentSession[]): void;
}

async function copy(text: string, what: string, toasts: Toasts) {
  try {
    await navigator.clipboard.writeText(text);
    toasts.toast(`${what} copied`, "ok");
  } catch (err) {
    toasts.toast(`Could not copy: ${errorText(err)}`, "error");
  }
}

function agentRow(a: AgentSession): HTMLElement {
  const item = el("li", "agent-session", undefined, "agent-session");
  item.dataset.session = a.session;
  const head = el("div", undefined, undefined, "agent-head");
  head.append(
    el("strong", "agent-client", a.client),
    el("span", "agent-transport", a.transport, "muted"),
    el("span", "agent-connected", `connected ${formatInstant(a.connectedAtMs)}`, "muted"),
    el("span", "agent-last-seen", `last seen ${formatInstant(a.lastSeenMs)}`, "muted"),
  );
  const calls = el("ul", "agent-calls", undefined, "agent-calls");
  // Newest first, a few: the audit log keeps the rest.
  for (const c of [...a.calls].sort((x, y) => y.atMs - x.atMs).slice(0, 10)) {
    const call = el("li", "agent-call", undefined, c.ok ? "agent-call ok-call" : "agent-call error-call");
    call.append(
      el("span", "agent-call-tool", c.tool, "mono"),
      el("span", "agent-call-result", c.ok ? "ok" : "error", c.ok ? "ok" : "error"),
      el("span", undefined, c.summary),
    );
    calls.append(call);
  }
  item.append(head, calls);
  return item;
}

export function createAgentsView(deps: { banner: ErrorBanner; toasts: Toasts }): AgentsView {
  const { banner, toasts } = deps;
  const root = el("section", "agents-view", undefined, "view");

  const enabled = el("input", "mcp-enabled");
  enabled.type = "checkbox";
  const port = el("input", "mcp-port");
  port.type = "number";
  port.min = "1";
  port.max = "65535";
  // Empty: the profile's own port, chosen free once and shared with `rmm mcp`.
  port.placeholder = "automatic";
  const readOnly = el("input", "mcp-read-only");
  readOnly.type = "checkbox";
  const apply = button("mcp-apply", "Apply", () => void configure());
  const running = el("p", "mcp-running", "", "muted");
  const url = el("p", "mcp-url", "", "mono");
  const socket = el("p", "mcp-socket", "", "muted");
  const error = el("p", "mcp-error", "", "error");
  error.setAttribute("role", "alert");
  error.hidden = true;

  const enabledLabel = el("label", undefined, undefined, "checkbox-field");
  enabledLabel.append(enabled, el("span", undefined, "Let AI agents connect"));
  const readOnlyLabel = el("label", undefined, undefined, "checkbox-field");
  readOnlyLabel.append(readOnly, el("span", undefined, "Read-only (agents can look, not change)"));
  const settings = el("div", "mcp-settings", undefined, "toolbar");
  settings.append(enabledLabel, labelled("Port", port), readOnlyLabel, apply);

  const showConfigs = button("mcp-show-configs", "Show client configurations", () => void loadConfigs());
  const configs = el("div", "mcp-configs", undefined, "mcp-configs");
  configs.hidden = true;

  const agentList = el("ul", "agent-list", undefined, "agent-list");
  const noAgents = el("p", "agent-none", "No agent is connected.", "muted");

  root.append(
    el("h2", undefined, "AI agents (MCP)"),
    settings,
    running,
    url,
    socket,
    error,
    showConfigs,
    configs,
    el("h3", undefined, "Connected agents"),
    noAgents,
    agentList,
  );

  function showStatus(s: McpStatus) {
    enabled.checked = s.enabled;
    port.value = s.port === null ? "" : String(s.port);
    readOnly.checked = s.readOnly;
    running.textContent = s.running ? "The endpoint is running." : "The endpoint is off.";
    url.textContent = s.url ?? "";
    url.hidden = s.url === null;
    // Where `rmm mcp --stdio` relays agents that speak stdio only.
    socket.textContent = s.socketPath ? `Local socket: ${s.socketPath}` : "";
    socket.hidden = !s.socketPath;
    error.textContent = s.error ?? "";
    error.hidden = s.error === null || s.error === "";
    showAgents(s.agents);
  }

  function showAgents(agents: AgentSession[]) {
    agentList.replaceChildren(...agents.map(agentRow));
    noAgents.hidden = agents.length > 0;
  }

  async function load() {
    try {
      showStatus(await mcpStatus());
    } catch (err) {
      banner.report(err, () => void load());
    }
  }

  async function configure() {
    apply.disabled = true;
    try {
      const chosen = port.value.trim();
      showStatus(await mcpConfigure({ enabled: enabled.checked, port: chosen === "" ? null : Number(chosen), readOnly: readOnly.checked }));
    } catch (err) {
      // The typed settings stay; the reason shows where the endpoint's errors do.
      error.textContent = errorText(err);
      error.hidden = false;
    } finally {
      apply.disabled = false;
    }
  }

  function configBlock(testid: string, title: string, text: string): HTMLElement {
    const box = el("div", undefined, undefined, "config-block");
    const pre = el("pre", testid, text, "mono");
    const copyButton = button(`${testid}-copy`, "Copy", () => void copy(text, title, toasts));
    const head = el("div", undefined, undefined, "config-head");
    head.append(el("h4", undefined, title), copyButton);
    box.append(head, pre);
    return box;
  }

  function drawConfigs(c: McpClientConfigs) {
    const secret = el("code", "mcp-secret", MASK, "mono");
    let visible = false;
    const toggle = button("mcp-show-secret", "Show", () => {
      visible = !visible;
      secret.textContent = visible ? c.secret : MASK;
      toggle.textContent = visible ? "Hide" : "Show";
    });
    const copySecret = button("mcp-copy-secret", "Copy", () => void copy(c.secret, "Secret", toasts));
    const secretLine = el("p", undefined, undefined, "secret-line");
    secretLine.append(el("span", undefined, "Secret: "), secret, toggle, copySecret);
    configs.replaceChildren(
      secretLine,
      configBlock("mcp-config-claude", "Claude Desktop (claude_desktop_config.json)", c.claudeDesktop),
      configBlock("mcp-config-cursor", "Cursor, Claude Code (.mcp.json), MCP Inspector (--config)", c.cursor),
      configBlock("mcp-config-vscode", "VS Code (.vscode/mcp.json: asks for the secret, keeps it out of the file)", c.vscode),
    );
    configs.hidden = false;
  }

  async function loadConfigs() {
    try {
      drawConfigs(await mcpClientConfigs());
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  return { root, load, showAgents };
}

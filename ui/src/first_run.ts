// The first-run screen, shown while the app has no profile (no `--demo`, nothing chosen yet):
// "Try the demo" starts the built-in simulator in the app, "Set up a real profile" opens the
// Settings form.
import { startDemo, type SessionInfo } from "./backend";
import { button, el, errorText } from "./dom";

export interface FirstRun {
  readonly root: HTMLElement;
  show(on: boolean): void;
}

export interface FirstRunDeps {
  /** The demo runs and the app uses it. */
  onDemoStarted: (info: SessionInfo) => void;
  /** The user wants to enter a real profile. */
  onSetUp: () => void;
}

export function createFirstRun(deps: FirstRunDeps): FirstRun {
  const root = el("section", "first-run", undefined, "view first-run");
  root.hidden = true;
  const error = el("div", "first-run-error", undefined, "error");
  error.hidden = true;
  error.setAttribute("role", "alert");
  const status = el("p", "first-run-status", undefined, "muted");
  status.hidden = true;
  async function tryDemo() {
    demo.disabled = true;
    setUp.disabled = true;
    error.hidden = true;
    status.textContent = "Starting the demo simulator…";
    status.hidden = false;
    try {
      const info = await startDemo();
      deps.onDemoStarted(info);
    } catch (err) {
      error.textContent = `The demo did not start: ${errorText(err)}`;
      error.hidden = false;
    } finally {
      status.hidden = true;
      demo.disabled = false;
      setUp.disabled = false;
    }
  }
  const demo = button("first-run-demo", "Try the demo", () => void tryDemo());
  const setUp = button("first-run-setup", "Set up a real profile", () => deps.onSetUp());
  const choices = el("div", undefined, undefined, "first-run-choices");
  choices.append(demo, setUp);
  root.append(
    el("h2", "first-run-title", "Welcome to MCP-RMM"),
    el(
      "p",
      undefined,
      "Try the demo: a simulated Sharp cloud with its printers runs inside the app, no account needed. Or set up a profile with your own login URL, API base and subscription key.",
    ),
    choices,
    status,
    error,
  );
  return {
    root,
    show(on) {
      root.hidden = !on;
    },
  };
}

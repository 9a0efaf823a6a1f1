// The only way the front end talks to the desktop app's Rust side. Every Tauri command is
// wrapped here, so that views never import Tauri directly and tests can mock this one module.
import { invoke } from "@tauri-apps/api/core";

/** Where the in-process demo simulator of the Sharp cloud listens. Holds no secret. */
export interface DemoSimulator {
  loginUrl: string;
  dashboardUrl: string;
  apiBaseUrl: string;
  groupId: string;
  username: string;
  devices: number;
}

/** What the app tells the UI about itself (the `app_info` command). */
export interface AppInfo {
  name: string;
  version: string;
  /** Present when the app was started with `--demo`. */
  demo: DemoSimulator | null;
  /** The folder the app writes its log files to. */
  logDir: string | null;
}

/** Asks the app who it is and whether the demo simulator runs. */
export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>("app_info");
}

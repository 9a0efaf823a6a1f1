// The only way the front end talks to the desktop app's Rust side: every command goes through
// the generated bindings (`bindings.ts`, from tauri-specta) here, so that views never import
// Tauri directly and tests can mock this one module.
import { commands, type AppInfo_Serialize, type CommandError, type SessionInfo_Serialize } from "./bindings";

export type { CommandError, ErrorCode, DemoInfo as DemoSimulator } from "./bindings";

/** What the app tells the UI about itself (the `app_info` command). */
export type AppInfo = AppInfo_Serialize;

/** Who is signed in: user, tenant, expiry; never the token. */
export type SessionInfo = SessionInfo_Serialize;

/** A command's failure as thrown by this facade. */
export class BackendError extends Error {
  readonly code: CommandError["code"];
  constructor(error: CommandError) {
    super(error.message);
    this.code = error.code;
  }
}

function unwrap<T>(result: { status: "ok"; data: T } | { status: "error"; error: CommandError }): T {
  if (result.status === "error") throw new BackendError(result.error);
  return result.data;
}

/** Asks the app who it is and whether the demo simulator runs. */
export function appInfo(): Promise<AppInfo> {
  return commands.appInfo();
}

/** Who is signed in now. */
export function sessionStatus(): Promise<SessionInfo> {
  return commands.sessionStatus();
}

/** Opens the login window; `silent` refreshes without showing it. */
export async function signIn(silent = false): Promise<SessionInfo> {
  return unwrap(await commands.signIn(silent));
}

/** Forgets the token. */
export async function signOut(): Promise<SessionInfo> {
  return unwrap(await commands.signOut());
}

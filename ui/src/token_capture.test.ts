// Tests of the login window's capture script (src-tauri/src/token_capture.js): only a Bearer
// sent to the API origin, or an access_token in the fragment, is handed over, each value once,
// with the window's nonce and the page's origin.
/// <reference types="node" />
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it, vi } from "vitest";

const TEMPLATE = readFileSync(
  // Vitest runs from ui/ (npm test).
  resolve(process.cwd(), "../src-tauri/src/token_capture.js"),
  "utf8",
);

const API = "http://127.0.0.1:4004";
const NONCE = "0123456789abcdef0123456789abcdef";

/** The reserved address the script navigates to for `token` from a page of `origin`. */
function handover(token: string, origin = "http://127.0.0.1:4003"): string {
  const fragment = new URLSearchParams({ token, nonce: NONCE, origin });
  return `https://mcp-rmm-capture.invalid/#${fragment.toString()}`;
}

interface FakeLocation {
  href: string;
  hash: string;
  origin: string;
  replace: ReturnType<typeof vi.fn>;
}

/** Runs the script in a page at `pageUrl` with a fake location; returns what it navigated to. */
function runScript(pageUrl: string): { location: FakeLocation; fetchCalls: unknown[][] } {
  const script = TEMPLATE.replace("__RMM_API_ORIGIN__", JSON.stringify(API))
    .replace("__RMM_CAPTURE_URL__", JSON.stringify("https://mcp-rmm-capture.invalid/"))
    .replace("__RMM_NONCE__", JSON.stringify(NONCE));
  const url = new URL(pageUrl);
  const location: FakeLocation = { href: url.href, hash: url.hash, origin: url.origin, replace: vi.fn() };
  const fetchCalls: unknown[][] = [];
  window.fetch = ((...args: unknown[]) => {
    fetchCalls.push(args);
    return Promise.resolve(new Response("{}"));
  }) as typeof window.fetch;
  new Function("location", script)(location);
  return { location, fetchCalls };
}

describe("token capture script", () => {
  it("hands over each Bearer that fetch sends to the API origin once, with the nonce and origin", async () => {
    const { location, fetchCalls } = runScript("http://127.0.0.1:4003/");
    await window.fetch(`${API}/api/v1/tenants`, { headers: { Authorization: "Bearer aaa.bbb.ccc" } });
    await window.fetch(`${API}/api/v1/tenants`, { headers: { Authorization: "Bearer aaa.bbb.ccc" } });
    expect(fetchCalls).toHaveLength(2);
    expect(location.replace).toHaveBeenCalledOnce();
    expect(location.replace).toHaveBeenCalledWith(handover("aaa.bbb.ccc"));
    // A refused hand-over does not stop the next (another value).
    await window.fetch(`${API}/api/v1/tenants`, { headers: { Authorization: "Bearer second" } });
    expect(location.replace).toHaveBeenCalledTimes(2);
    expect(location.replace).toHaveBeenLastCalledWith(handover("second"));
  });

  it("ignores a Bearer sent to another origin", async () => {
    const { location, fetchCalls } = runScript("http://127.0.0.1:4003/");
    await window.fetch("http://127.0.0.1:9999/api/v1/tenants", {
      headers: { Authorization: "Bearer other.origin.token" },
    });
    const xhr = new XMLHttpRequest();
    xhr.open("GET", "https://evil.example/steal");
    xhr.setRequestHeader("Authorization", "Bearer other.origin.token");
    expect(fetchCalls).toHaveLength(1);
    expect(location.replace).not.toHaveBeenCalled();
  });

  it("hands over a Bearer that XMLHttpRequest sends to the API origin", () => {
    const { location } = runScript("http://127.0.0.1:4003/");
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/rmm/fss/fwupd/getFirmwareUpdateList`);
    xhr.setRequestHeader("authorization", "Bearer x.y.z");
    expect(location.replace).toHaveBeenCalledWith(handover("x.y.z"));
  });

  it("takes an access_token from the URL fragment", () => {
    const { location } = runScript("http://127.0.0.1:4003/callback#access_token=f.g.h&token_type=Bearer");
    expect(location.replace).toHaveBeenCalledWith(handover("f.g.h"));
  });

  it("ignores other headers and non-Bearer schemes", async () => {
    const { location } = runScript("http://127.0.0.1:4003/");
    await window.fetch(`${API}/x`, { headers: { Authorization: "Basic dXNlcjpwdw==", "x-other": "Bearer no" } });
    expect(location.replace).not.toHaveBeenCalled();
  });
});

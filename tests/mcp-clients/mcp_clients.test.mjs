// `rmm mcp` driven by MCP clients nobody on this project wrote: the official TypeScript SDK
// client (@modelcontextprotocol/sdk) and the MCP Inspector CLI (@modelcontextprotocol/inspector),
// both pinned in package-lock.json, against a simulator (`rmm sim`) signed in with `rmm login`.
// Each scenario runs once over stdio and once over streamable HTTP (`rmm mcp --http`, with the
// url and bearer header `--print-config` gives): tools/list (no error, no validator warning,
// the Inspector's --strict lint clean), a read, a preview without confirm, a confirmed change
// visible in the simulator, bad arguments as isError, elicitation accepted and declined,
// --read-only; then the --print-config output used as pasted (the Inspector's --config, the
// SDK's HTTP transport). The protocol version each transport negotiated is printed.
//
// RMM_BIN names the rmm binary (default ../../target/debug/rmm; it is not built here).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const RMM = resolve(process.env.RMM_BIN ?? join(import.meta.dirname, "../../target/debug/rmm"));
const INSPECTOR = join(import.meta.dirname, "node_modules/.bin/inspector");
const PROFILE = "clients";
const CHANGE_TOOLS = ["schedule_firmware_update", "configure_ota_mode", "cancel_scheduled_update"];

const home = mkdtempSync(join(tmpdir(), "mcp-clients-"));
// What the server needs, passed explicitly: the SDK and the Inspector start it with a minimal
// environment (no keyring here: the plain-file store).
const env = {
  RMM_CONFIG_DIR: join(home, "config"),
  TOKEN_FILE: join(home, "secrets.json"),
  XDG_RUNTIME_DIR: join(home, "run"),
  RUST_LOG: "error",
};
const fullEnv = { ...process.env, ...env };
let sim;
let info;
const warnings = [];
const children = [];

function rmm(args) {
  const r = spawnSync(RMM, ["--profile", PROFILE, ...args], { env: fullEnv, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function freePort() {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

// How a client reaches `rmm mcp` with some extra flags (e.g. --read-only): a transport the SDK
// client connects with. stdio starts the server itself; http starts one `rmm mcp --http` per
// set of flags (kept until the end) and uses the url and headers `--print-config` gives.
const TRANSPORTS = {
  stdio: async (extra) =>
    new StdioClientTransport({
      command: RMM,
      args: ["--profile", PROFILE, "mcp", "--stdio", "--standalone", ...extra],
      env,
      stderr: "pipe",
    }),
  http: async (extra) => {
    const { url, headers } = await httpEndpoint(extra);
    return new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  },
};
// The protocol version each transport's initialize result named (printed, never asserted
// elsewhere: the README quotes them).
const negotiated = {};
const endpoints = new Map();

/// A running `rmm mcp --http 127.0.0.1:PORT ...extra` and its client entry from --print-config.
async function httpEndpoint(extra = []) {
  const key = extra.join(" ");
  if (!endpoints.has(key)) endpoints.set(key, startHttpEndpoint(extra));
  return endpoints.get(key);
}

async function startHttpEndpoint(extra) {
  const addr = `127.0.0.1:${await freePort()}`;
  const printed = rmm(["mcp", "--print-config", "--http", addr]);
  assert.equal(printed.code, 0, printed.err);
  const entry = JSON.parse(printed.out).mcpServers["mcp-rmm"];
  assert.equal(entry.url, `http://${addr}/mcp`);
  assert.match(entry.headers.Authorization, /^Bearer \S+$/);
  const server = spawn(RMM, ["--profile", PROFILE, "mcp", "--http", addr, ...extra], {
    env: fullEnv,
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(server);
  // It says so on stderr once it listens.
  await new Promise((ok, fail) => {
    const lines = createInterface({ input: server.stderr });
    lines.on("line", (line) => {
      if (/MCP endpoint on/.test(line)) ok();
    });
    server.once("exit", (code) => fail(new Error(`rmm mcp --http ${extra.join(" ")} exited with ${code}`)));
  });
  return { url: entry.url, headers: entry.headers };
}

async function connect(transport, extra = [], { elicit } = {}) {
  const client = new Client(
    { name: `sdk-${transport}`, version: "1.0.0" },
    { capabilities: elicit ? { elicitation: {} } : {} },
  );
  if (elicit) client.setRequestHandler(ElicitRequestSchema, async (request) => elicit(request));
  const t = await TRANSPORTS[transport](extra);
  // The SDK hands the negotiated version to transports that want it (HTTP does, stdio not).
  const own = t.setProtocolVersion?.bind(t);
  t.setProtocolVersion = (version) => {
    negotiated[transport] = version;
    own?.(version);
  };
  await client.connect(t);
  return client;
}

/// Runs a program to its end without blocking the event loop: {status, stdout, stderr}.
function run(program, args) {
  return new Promise((ok, fail) => {
    const child = spawn(program, args, { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 120_000);
    child.once("error", fail);
    child.once("close", (status) => {
      clearTimeout(timer);
      ok({ status, stdout, stderr });
    });
  });
}

async function simDevice(id) {
  const r = await fetch(`${info.control_url}/devices/${encodeURIComponent(id)}`);
  assert.equal(r.status, 200);
  return r.json();
}

/// An online device without a reservation whose OTA mode is not `mode`.
async function someDevice(client, mode) {
  const page = await client.callTool({ name: "list_devices", arguments: { all: true } });
  const device = page.structuredContent.devices.find(
    (d) => d.connection === undefined && d.reserved_file_id === undefined && d.ota_mode !== mode,
  );
  assert.ok(device, "an online device to change");
  return device;
}

before(async () => {
  assert.ok(existsSync(RMM), `${RMM} is missing: build it first (cargo build -p rmm-cli)`);
  const origWarn = console.warn;
  console.warn = (...args) => {
    warnings.push(args.join(" "));
    origWarn(...args);
  };
  sim = spawn(RMM, ["sim", "--profile", PROFILE, "--devices", "30"], { env: fullEnv, stdio: ["ignore", "pipe", "inherit"] });
  children.push(sim);
  const line = await new Promise((ok, fail) => {
    const lines = createInterface({ input: sim.stdout });
    lines.once("line", ok);
    sim.once("exit", (code) => fail(new Error(`rmm sim exited with ${code}`)));
  });
  info = JSON.parse(line);
  const login = rmm(["login"]);
  assert.equal(login.code, 0, login.err);
});

after(() => {
  for (const child of children) child.kill();
});

for (const transport of Object.keys(TRANSPORTS)) {
  test(`${transport}: the TypeScript SDK lists every tool, without a validator warning`, async (t) => {
    const before = warnings.length;
    const client = await connect(transport);
    const server = client.getServerVersion();
    assert.equal(server.name, "mcp-rmm", JSON.stringify(server));
    assert.match(negotiated[transport] ?? "", /^\d{4}-\d{2}-\d{2}$/, "the protocol version the server answered");
    t.diagnostic(`TypeScript SDK 1.32.2 over ${transport}: protocol ${negotiated[transport]}, server ${server.name} ${server.version}`);
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of ["extract_auth_token", "list_devices", "make_api_request", "list_staged_firmware", ...CHANGE_TOOLS]) {
      assert.ok(names.includes(name), `${name} in ${names}`);
    }
    assert.ok(tools.every((t) => t.outputSchema?.type === "object"), "every tool has an object output schema");
    // A read checks the structured result against the output schema (ajv with formats).
    const page = await client.callTool({ name: "list_devices", arguments: { page_size: 5 } });
    assert.notEqual(page.isError, true);
    assert.equal(page.structuredContent.summary.total_devices, 30);
    assert.equal(page.structuredContent.devices.length, 5);
    for (const key of ["device_id", "model_name", "serial_number", "ip_address", "current_firmware", "latest_firmware", "needs_update", "ota_mode"]) {
      assert.ok(key in page.structuredContent.devices[0], key);
    }
    const firmware = await client.callTool({ name: "list_staged_firmware", arguments: {} });
    assert.ok(firmware.structuredContent.firmware_files.length > 0);
    // One device with every field the cloud sent: the device's own fields beside cloud_fields,
    // checked against its output schema by the SDK like every structured result.
    const id = page.structuredContent.devices[0].device_id;
    const one = await client.callTool({ name: "get_device", arguments: { device_id: id } });
    assert.notEqual(one.isError, true, JSON.stringify(one.content));
    assert.equal(one.structuredContent.device_id, id);
    assert.equal(one.structuredContent.cloud_fields.deviceId, id);
    await client.close();
    const mine = warnings.slice(before).filter((w) => /format|schema/i.test(w));
    assert.deepEqual(mine, [], "no schema or format warning from the SDK's validator");
  });

  test(`${transport}: the Inspector CLI's --strict lint finds nothing in the tool list`, async () => {
    const args = ["--cli", "--strict", "--method", "tools/list"];
    if (transport === "http") {
      const { url, headers } = await httpEndpoint();
      args.push("--transport", "http", "--server-url", url);
      for (const [k, v] of Object.entries(headers)) args.push("--header", `${k}: ${v}`);
    } else {
      for (const [k, v] of Object.entries(env)) args.push("-e", `${k}=${v}`);
      args.push(RMM, "--profile", PROFILE, "mcp", "--stdio", "--standalone");
    }
    // Not spawnSync: the event loop keeps reading the endpoints' stderr meanwhile.
    const r = await run(INSPECTOR, args);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Error:|Warning:|portability/, r.stderr);
    assert.ok(JSON.parse(r.stdout).tools.length >= 11);
  });

  test(`${transport}: a change without confirm is a preview; with confirm it shows in the simulator`, async () => {
    const client = await connect(transport);
    const device = await someDevice(client, "off");
    const preview = await client.callTool({
      name: "configure_ota_mode",
      arguments: { device_ids: [device.device_id], ota_mode: "off" },
    });
    assert.notEqual(preview.isError, true);
    assert.equal(preview.structuredContent.status, "preview");
    assert.notEqual((await simDevice(device.device_id)).otaMode, "off", "nothing changed yet");
    const done = await client.callTool({
      name: "configure_ota_mode",
      arguments: {
        device_ids: [device.device_id],
        ota_mode: "off",
        confirm: true,
        preview_digest: preview.structuredContent.preview.digest,
      },
    });
    assert.equal(done.structuredContent.status, "done", JSON.stringify(done));
    assert.equal((await simDevice(device.device_id)).otaMode, "off");
    await client.close();
  });

  test(`${transport}: bad arguments come back as one isError result with every problem`, async () => {
    const client = await connect(transport);
    const bad = await client.callTool({
      name: "configure_ota_mode",
      arguments: { device_ids: ["no such id", 7], ota_mode: "sometimes", start_hour: "two" },
    });
    assert.equal(bad.isError, true);
    const body = JSON.parse(bad.content[0].text);
    const fields = body.problems.map((p) => p.field).sort();
    assert.deepEqual(fields, ["device_ids[0]", "device_ids[1]", "ota_mode", "start_hour"], bad.content[0].text);
    await client.close();
  });

  test(`${transport}: elicitation: accepted carries the change out, declined changes nothing`, async () => {
    let asked;
    const yes = await connect(transport, [], {
      elicit: (request) => {
        asked = request.params;
        return { action: "accept", content: { confirm: true } };
      },
    });
    const device = await someDevice(yes, "confirmation");
    const done = await yes.callTool({
      name: "configure_ota_mode",
      arguments: { device_ids: [device.device_id], ota_mode: "confirmation", start_hour: 1, end_hour: 3 },
    });
    assert.equal(done.structuredContent.status, "done", JSON.stringify(done));
    assert.ok(asked.requestedSchema.properties.confirm.description, "the confirm field has its description");
    assert.equal((await simDevice(device.device_id)).otaMode, "confirmation");
    await yes.close();

    const no = await connect(transport, [], { elicit: () => ({ action: "decline" }) });
    const other = await someDevice(no, "off");
    const before = (await simDevice(other.device_id)).otaMode;
    const declined = await no.callTool({
      name: "configure_ota_mode",
      arguments: { device_ids: [other.device_id], ota_mode: "off" },
    });
    assert.equal(declined.structuredContent.status, "declined");
    assert.equal((await simDevice(other.device_id)).otaMode, before);
    await no.close();
  });

  test(`${transport}: --read-only lists no change tool and refuses one called by name`, async () => {
    const client = await connect(transport, ["--read-only"]);
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const name of CHANGE_TOOLS) assert.ok(!names.includes(name), `${name} listed`);
    const refused = await client.callTool({
      name: "cancel_scheduled_update",
      arguments: { device_ids: ["mn=U2hhcnA=:sn=MQ=="], confirm: true },
    });
    assert.equal(refused.isError, true);
    assert.match(refused.content[0].text, /read-only/);
    await client.close();
  });
}

test("stdio: an agent's rollout session: plan, a foreign digest refused, start, promote refused outside the envelope and taken inside it, the kill switch", async () => {
  const client = await connect("stdio");
  try {
    const plan = {
      name: "sdk rollout",
      canary: { count: 3, soak_minutes: 5 },
      waves: [{ count: 4, soak_minutes: 5 }, { percent: 100, soak_minutes: 5 }],
      gates: { pause_after_each_wave: true, success_share: 0.5, failure_share: 0.9 },
      execution: { retries: 0 },
    };
    // Every structured answer below is checked by the SDK against the tool's output schema.
    const planned = await client.callTool({ name: "plan_rollout", arguments: { plan } });
    assert.notEqual(planned.isError, true, JSON.stringify(planned));
    const { digest, targets } = planned.structuredContent.preview;
    assert.equal(planned.structuredContent.envelope.limits_hit[0].limit, "qualified");

    const foreign = await client.callTool({
      name: "start_rollout",
      arguments: { plan, digest: "0000000000000000", confirm: true },
    });
    assert.equal(foreign.isError, true);
    assert.equal(foreign.structuredContent.status, "preview_changed");
    const started = await client.callTool({ name: "start_rollout", arguments: { plan, digest, confirm: true } });
    assert.equal(started.structuredContent.status, "started", JSON.stringify(started));
    const id = started.structuredContent.rollout_id;

    // Driven as a person would (or the app): until the canary passed and waits for a promote.
    const ran = await run(RMM, ["--profile", PROFILE, "rollout", "run", String(id), "--fast-sim"]);
    assert.equal(ran.status, 7, ran.stderr);
    const status = await client.callTool({ name: "rollout_status", arguments: { rollout_id: id } });
    assert.equal(status.structuredContent.rollout.state, "paused");

    const refused = await client.callTool({ name: "promote_rollout", arguments: { rollout_id: id } });
    assert.equal(refused.isError, true);
    const body = JSON.parse(refused.content[0].text);
    assert.equal(body.error, "outside_envelope");
    // Not qualified; and an offline canary device timing out may count against the failure share.
    assert.equal(body.limits[0].limit, "qualified", refused.content[0].text);

    // The person qualifies the files and sets the limits; the agent's promote is then taken.
    for (const t of targets) {
      const q = rmm(["policy", "qualify", "--model", t.model, "--file", t.file_id]);
      assert.equal(q.code, 0, q.err);
    }
    const set = rmm(["policy", "set", "--largest-wave", "100", "--devices-per-day", "1000", "--max-failure-share", "1"]);
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /largest wave\s+100/);
    const promoted = await client.callTool({ name: "promote_rollout", arguments: { rollout_id: id } });
    assert.notEqual(promoted.isError, true, promoted.content[0]?.text);
    assert.equal(promoted.structuredContent.action, "promote");
    assert.equal(promoted.structuredContent.status.rollout.state, "running");

    const stop = rmm(["policy", "stop-agents"]);
    assert.equal(stop.code, 0, stop.err);
    assert.match(stop.out, new RegExp(`Paused 1 rollout\\(s\\) agents started: ${id}`));
    const stopped = await client.callTool({ name: "resume_rollout", arguments: { rollout_id: id } });
    assert.equal(stopped.isError, true);
    assert.equal(JSON.parse(stopped.content[0].text).limits[0].limit, "agents_stopped");
    assert.equal(rmm(["policy", "allow-agents"]).code, 0);
    const aborted = await client.callTool({ name: "abort_rollout", arguments: { rollout_id: id } });
    assert.equal(aborted.structuredContent.status.rollout.state, "aborted", JSON.stringify(aborted));
  } finally {
    await client.close();
  }
});

test("--print-config as pasted: the Inspector's --config and the SDK's HTTP transport", async () => {
  const addr = `127.0.0.1:${await freePort()}`;
  const printed = rmm(["mcp", "--print-config", "--http", addr, "--client", "inspector"]);
  assert.equal(printed.code, 0, printed.err);
  const config = JSON.parse(printed.out);
  const entry = config.mcpServers["mcp-rmm"];
  assert.equal(entry.type, "http");
  const file = join(home, "mcp.json");
  writeFileSync(file, printed.out);
  const server = spawn(RMM, ["--profile", PROFILE, "mcp", "--http", addr], { env: fullEnv, stdio: "ignore" });
  children.push(server);
  let listed;
  for (let i = 0; i < 100; i++) {
    listed = spawnSync(INSPECTOR, ["--cli", "--config", file, "--server", "mcp-rmm", "--method", "tools/list"], {
      env: fullEnv,
      encoding: "utf8",
      timeout: 60_000,
    });
    if (listed.status === 0) break;
    await new Promise((ok) => setTimeout(ok, 200));
  }
  assert.equal(listed.status, 0, listed.stderr);
  assert.ok(JSON.parse(listed.stdout).tools.some((t) => t.name === "list_devices"));

  const client = new Client({ name: "sdk-http", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(entry.url), { requestInit: { headers: entry.headers } }),
  );
  const page = await client.callTool({ name: "list_devices", arguments: { page_size: 3 } });
  assert.equal(page.structuredContent.devices.length, 3);
  await client.close();

  // The stdio entry as pasted (its env added to what the host gives).
  const stdio = config.mcpServers["mcp-rmm-stdio"];
  const viaStdio = new Client({ name: "sdk-stdio-entry", version: "1.0.0" });
  await viaStdio.connect(
    new StdioClientTransport({ command: stdio.command, args: [...stdio.args, "--standalone"], env: { ...env, ...stdio.env } }),
  );
  assert.ok((await viaStdio.listTools()).tools.length >= 11);
  await viaStdio.close();
  server.kill();
});

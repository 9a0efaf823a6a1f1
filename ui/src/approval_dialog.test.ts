// Tests of the approval dialog: requests queue and show one at a time, the buttons answer the
// shown request, a withdrawn request disappears, a failed answer keeps the request.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { answerApproval, type ApprovalRequested, type RolloutApprovalRequested } from "./backend";
import { ApprovalQueue, askText, createApprovalDialog } from "./approval_dialog";
import { allByTestId, backendError, byTestId, preview, settle } from "./test_fixtures";

vi.mock("./backend", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./backend")>()),
  answerApproval: vi.fn(),
}));

function request(id: string, client = "Claude Desktop"): ApprovalRequested {
  return {
    id,
    client,
    preview: preview(["d1", "d2"], {
      summary: `Schedule firmware F on 2 devices (${id})`,
      warnings: [{ device_id: "d2", kind: "already_reserved", message: "already has a reservation" }],
    }),
  };
}

function rolloutRequest(id: string): RolloutApprovalRequested {
  const device = (n: number) => ({ device_id: `d${n}`, model: "MX-3071", firmware: "1.0", target_version: "1.2", file_id: "F", time_zone: "UTC+00:00", ota_auto: false, offline: false, first_slot_local: "2030-01-01 02:00 UTC+00:00" });
  return {
    id,
    client: "Claude Code",
    plan: {
      preview: {
        name: "Q4",
        group_id: "g",
        total_devices: 3,
        targets: [{ model: "MX-3071", file_id: "F", file_title: "MX-3071 v1.2", version: "1.2", devices: 3 }],
        waves: [
          { index: 0, label: "canary", soak_minutes: 30, earliest_start_ms: 0, devices: [device(1)] },
          { index: 1, label: "wave 1", soak_minutes: 30, earliest_start_ms: 0, devices: [device(2), device(3)] },
        ],
        conflicts: [],
        ota_guarded: 0,
        notes: [],
        digest: "abc123",
      },
      envelope: { within: false, limits_hit: [{ limit: "qualified", message: "not qualified" }], policy: {} },
      next_step: "",
    },
  } as unknown as RolloutApprovalRequested;
}

beforeEach(() => {
  document.body.innerHTML = "";
  vi.mocked(answerApproval).mockReset();
  vi.mocked(answerApproval).mockResolvedValue(undefined);
});

describe("approval queue", () => {
  it("keeps requests in order, once each", () => {
    const q = new ApprovalQueue();
    q.add(request("a"));
    q.add(request("b"));
    q.add(request("a"));
    expect(q.size()).toBe(2);
    expect(q.current()?.id).toBe("a");
    expect(q.remove("a")).toBe(true);
    expect(q.remove("zzz")).toBe(false);
    expect(q.current()?.id).toBe("b");
  });

  it("says who asks for what", () => {
    expect(askText(request("a"))).toBe("Claude Desktop asks to schedule firmware F on 2 devices (a)");
    const ota = request("b");
    ota.preview.summary = "OTA mode auto on 3 devices";
    expect(askText(ota)).toBe("Claude Desktop asks to OTA mode auto on 3 devices");
  });
});

describe("approval dialog", () => {
  it("shows an agent's rollout with its waves, envelope and digest, and answers it by id", async () => {
    const d = createApprovalDialog();
    d.requested(rolloutRequest("r1"));
    expect(byTestId(document, "approval-title")?.textContent).toBe("Claude Code asks to start rollout “Q4” on 3 devices in 2 waves");
    expect(byTestId(document, "rollout-preview-wave-1")?.textContent).toContain("2");
    expect(byTestId(document, "rollout-preview-envelope")?.textContent).toContain("Outside the agents' limits (qualified)");
    expect(byTestId(document, "rollout-preview-digest")?.textContent).toBe("Digest abc123");
    byTestId(document, "approval-approve")?.click();
    await settle();
    expect(answerApproval).toHaveBeenCalledWith("r1", true);
  });

  it("shows the first request with its preview and the count of the others", () => {
    const d = createApprovalDialog();
    d.requested(request("a"));
    d.requested(request("b", "Cursor"));
    expect(allByTestId(document, "approval-dialog")).toHaveLength(1);
    expect(byTestId(document, "approval-title")?.textContent).toContain("Claude Desktop asks to");
    expect(byTestId(document, "approval-summary")?.textContent).toBe("Schedule firmware F on 2 devices (a)");
    expect(allByTestId(document, "preview-device")).toHaveLength(2);
    expect(allByTestId(document, "preview-warning")).toHaveLength(1);
    expect(byTestId(document, "approval-count")?.textContent).toBe("1 more request waiting");
  });

  it("answers the shown request, then shows the next", async () => {
    const d = createApprovalDialog();
    d.requested(request("a"));
    d.requested(request("b", "Cursor"));
    byTestId(document, "approval-approve")?.click();
    await settle();
    expect(answerApproval).toHaveBeenCalledWith("a", true);
    expect(byTestId(document, "approval-title")?.textContent).toContain("Cursor asks to");
    expect(byTestId(document, "approval-count")?.hidden).toBe(true);
    byTestId(document, "approval-refuse")?.click();
    await settle();
    expect(answerApproval).toHaveBeenLastCalledWith("b", false);
    expect(byTestId(document, "approval-dialog")).toBeNull();
  });

  it("drops a request the agent withdrew, shown or waiting", () => {
    const d = createApprovalDialog();
    d.requested(request("a"));
    d.requested(request("b", "Cursor"));
    d.requested(request("c", "VS Code"));
    d.settled("b");
    expect(byTestId(document, "approval-count")?.textContent).toBe("1 more request waiting");
    d.settled("a");
    expect(byTestId(document, "approval-title")?.textContent).toContain("VS Code asks to");
    d.settled("c");
    expect(byTestId(document, "approval-dialog")).toBeNull();
    d.settled("unknown");
    expect(answerApproval).not.toHaveBeenCalled();
  });

  it("keeps the request shown when the answer fails", async () => {
    vi.mocked(answerApproval).mockRejectedValue(backendError({ code: "local", message: "approval not found" }));
    const d = createApprovalDialog();
    d.requested(request("a"));
    byTestId(document, "approval-approve")?.click();
    await settle();
    expect(byTestId(document, "approval-error")?.textContent).toBe("approval not found");
    expect(byTestId(document, "approval-dialog")).not.toBeNull();
    expect(byTestId<HTMLButtonElement>(document, "approval-approve")?.disabled).toBe(false);
  });

  it("does not close on Escape (the agent is waiting for an answer)", () => {
    const d = createApprovalDialog();
    d.requested(request("a"));
    byTestId(document, "approval-dialog")?.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    expect(byTestId(document, "approval-dialog")).not.toBeNull();
  });
});

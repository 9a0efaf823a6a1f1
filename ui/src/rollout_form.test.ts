// The new-rollout form's reading of what a person types: waves as counts or percents, an
// unreadable number named by its field (every one at once), the selection instead of a query.
import { describe, expect, it } from "vitest";
import { formFieldOf, planFromForm, type RolloutFormValues } from "./rollout_form";
import { actionsFor, countsText, waveText } from "./rollouts_view";

const typed: RolloutFormValues = {
  name: "Q4",
  models: "MX-3071, MX-4071",
  location: "",
  devices: null,
  canary: "5",
  waves: "25%, 100, 100%",
  soak: "30",
  successShare: "0.9",
  failureShare: "",
  pauseAfterEachWave: true,
  hours: "22-5",
  siteLimit: "3",
  firmware: "",
  otaGuard: true,
  replaceReservations: false,
};

describe("planFromForm", () => {
  it("reads waves, gates, hours and the site limit", () => {
    const { plan } = planFromForm(typed);
    expect(plan?.devices).toEqual({ models: ["MX-3071", "MX-4071"], location: null });
    expect(plan?.waves).toEqual([
      { percent: 25, soak_minutes: 30 },
      { count: 100, soak_minutes: 30 },
      { percent: 100, soak_minutes: 30 },
    ]);
    expect(plan?.canary).toEqual({ count: 5, soak_minutes: 30 });
    expect(plan?.gates).toEqual({ pause_after_each_wave: true, success_share: 0.9 });
    expect(plan?.windows).toEqual({ hours: ["22-5"], site_limit: 3 });
    expect(plan?.target).toEqual({ latest: true });
    expect(plan?.ota_guard).toEqual({ enabled: true, existing_reservations: "keep_out" });
  });

  it("reads a file per model and the OTA guard's choices", () => {
    const { plan } = planFromForm({ ...typed, firmware: "MX-3071=f1, MX-4071 = f2", otaGuard: false, replaceReservations: true });
    expect(plan?.target).toEqual({ latest: false, files: { "MX-3071": "f1", "MX-4071": "f2" } });
    expect(plan?.ota_guard).toEqual({ enabled: false, existing_reservations: "replace" });
    expect(planFromForm({ ...typed, firmware: "MX-3071" }).problems.map((p) => p.field)).toEqual(["firmware"]);
  });

  it("names every field it cannot read", () => {
    const reading = planFromForm({ ...typed, canary: "ten", waves: "lots, 50%", successShare: "most" });
    expect(reading.plan).toBeNull();
    expect(reading.problems.map((p) => p.field).sort()).toEqual(["canary", "success_share", "waves"]);
  });

  it("takes the selected devices instead of the query", () => {
    const { plan } = planFromForm({ ...typed, devices: ["a", "b"] });
    expect(plan?.devices).toEqual({ ids: ["a", "b"] });
  });

  it("places core's plan fields on the form's", () => {
    expect(formFieldOf("canary.count")).toBe("canary");
    expect(formFieldOf("waves[2].percent")).toBe("waves");
    expect(formFieldOf("windows.hours[0]")).toBe("hours");
    expect(formFieldOf("gates.success_share")).toBe("success_share");
  });
});

describe("actionsFor", () => {
  it("offers what each state allows", () => {
    expect(actionsFor("running")).toEqual(["pause", "promote", "abort"]);
    expect(actionsFor("paused")).toContain("resume");
    expect(actionsFor("aborted")).toEqual([]);
  });
});

describe("a rollout's numbers for people", () => {
  it("adds up when failing devices wait for a retry", () => {
    const c = { total: 5, pending: 5, reserving: 0, reserved: 0, verified: 0, failed: 0, aborted: 0, failing: 5 };
    expect(countsText(c)).toBe("0 verified · 5 failing · 0 under way · 0 waiting of 5");
  });
  it("names the canary", () => {
    expect(waveText({ wave: 0, waves: 3 })).toBe("canary of 3 waves");
    expect(waveText({ wave: 2, waves: 3 })).toBe("wave 2 of 3 waves");
    expect(waveText({ wave: 3, waves: 3 })).toBe("wave 2 of 3 waves");
  });
});

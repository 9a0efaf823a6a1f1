// The fleet as last loaded, shared by the views (grid, summary, Scheduled tab): the devices by
// id and the summary, with listeners told of a new load or of refreshed devices.
import type { DeviceView, FleetSnapshot, FleetSummary } from "./backend";

export type FleetChange = { kind: "loaded" } | { kind: "updated"; devices: DeviceView[] };

export class FleetStore {
  private byId = new Map<string, DeviceView>();
  private order: string[] = [];
  summary: FleetSummary | null = null;
  totalDevices = 0;
  needingUpdate = 0;
  loaded = false;
  private listeners: ((change: FleetChange) => void)[] = [];

  /** Every device, in the order the cloud listed them. */
  devices(): DeviceView[] {
    return this.order.flatMap((id) => {
      const d = this.byId.get(id);
      return d ? [d] : [];
    });
  }

  device(id: string): DeviceView | undefined {
    return this.byId.get(id);
  }

  setSnapshot(snapshot: FleetSnapshot): void {
    this.byId = new Map(snapshot.listing.devices.map((d) => [d.device_id, d]));
    this.order = snapshot.listing.devices.map((d) => d.device_id);
    this.summary = snapshot.summary;
    this.totalDevices = snapshot.listing.total_devices;
    this.needingUpdate = snapshot.listing.needing_update;
    this.loaded = true;
    this.emit({ kind: "loaded" });
  }

  /** Replaces the devices read again; devices not loaded before are ignored (another group). */
  updateDevices(fresh: DeviceView[]): DeviceView[] {
    const known = fresh.filter((d) => this.byId.has(d.device_id));
    for (const d of known) this.byId.set(d.device_id, d);
    if (known.length > 0) {
      this.needingUpdate = this.devices().filter((d) => d.needs_update).length;
      this.emit({ kind: "updated", devices: known });
    }
    return known;
  }

  subscribe(listener: (change: FleetChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private emit(change: FleetChange): void {
    for (const l of this.listeners) l(change);
  }
}

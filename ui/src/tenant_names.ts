// Tenant names for people: the header, dialogs and approvals name a tenant by what its admins
// call it (`tenantName` from the cloud), keeping the id for tooltips. Asks the cloud once per
// unknown tenant; when it cannot say, the id is all there is.
import { tenants, type TenantView } from "./backend";

export class TenantNames {
  private names = new Map<string, string>();
  private asked = new Set<string>();

  constructor(private readonly list: () => Promise<TenantView[]> = tenants) {}

  /** The tenant's name if known; otherwise null, and `onLearned` runs once it is. */
  nameOf(groupId: string, onLearned: () => void = () => undefined): string | null {
    const known = this.names.get(groupId);
    if (known !== undefined) return known;
    if (!this.asked.has(groupId)) {
      this.asked.add(groupId);
      this.list()
        .then((all) => {
          for (const t of all) if (t.name.trim() !== "") this.names.set(t.group_id, t.name);
          if (this.names.has(groupId)) onLearned();
        })
        // No name to show: the header keeps the id. Asked again after the next sign-in.
        .catch(() => this.asked.delete(groupId));
    }
    return null;
  }

  /** Forgets what was learned (signed out: the next account may see other tenants). */
  clear(): void {
    this.names.clear();
    this.asked.clear();
  }
}

import { DEFAULT_LEASE_TTL_MS, type HostLoad, type HostRegistry } from "./host-registry.ts";
import { HostTable } from "./host-table.ts";

/** {@link HostRegistry} of one process (embedded mode, tests): share one instance between its users. */
export class MemoryHostRegistry implements HostRegistry {
  readonly leaseTtlMs: number;
  readonly processLocal = true;
  readonly #table: HostTable;

  constructor(opts: { leaseTtlMs?: number } = {}) {
    this.leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#table = new HostTable(this.leaseTtlMs);
  }

  async start(): Promise<void> {}

  async heartbeat(load: HostLoad): Promise<void> {
    this.#table.put({ ...load });
  }

  async remove(hostId: string): Promise<void> {
    this.#table.delete(hostId);
  }

  get(hostId: string): HostLoad | undefined {
    return this.#table.get(hostId);
  }

  isAlive(hostId: string, now?: number): boolean {
    return this.#table.isAlive(hostId, now);
  }

  expiresAt(hostId: string): number {
    return this.#table.expiresAt(hostId);
  }

  live(now?: number): HostLoad[] {
    return this.#table.live(now);
  }

  async close(): Promise<void> {}
}

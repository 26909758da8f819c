import { randomBytes } from "node:crypto";
import type { BusMessage, MessageHandler } from "@threadmesh/mesh";

const decoder = new TextDecoder();

/** Collects what a subscription receives and lets a test await a count or a payload, never a delay. */
export class Received {
  readonly messages: BusMessage[] = [];
  readonly #waiters: { ready: () => boolean; resolve: () => void }[] = [];

  readonly handler: MessageHandler = (msg) => {
    this.messages.push(msg);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i]!;
      if (w.ready()) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  /** Payloads as text, in arrival order. */
  texts(): string[] {
    return this.messages.map((m) => decoder.decode(m.data));
  }

  count(n: number): Promise<void> {
    return this.until(() => this.messages.length >= n);
  }

  text(t: string): Promise<void> {
    return this.until(() => this.messages.some((m) => decoder.decode(m.data) === t));
  }

  until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ ready, resolve }));
  }
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function text(b: Uint8Array): string {
  return decoder.decode(b);
}

/** A subject prefix no other test uses, so leftovers of one test never reach another. */
export function uniquePrefix(): string {
  return `tm.test.${randomBytes(8).toString("hex")}`;
}

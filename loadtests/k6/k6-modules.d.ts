/**
 * The parts of k6's JavaScript API the k6 platform uses, declared so the repository's typecheck covers
 * the k6 scripts too (k6 ≥ 1.0 runs TypeScript itself and needs none of this).
 */
declare module "k6" {
  export function check<T>(value: T, checks: Record<string, (v: T) => boolean>): boolean;
}
declare module "k6/metrics" {
  export class Trend {
    constructor(name: string, isTime?: boolean);
    add(value: number): void;
  }
  export class Counter {
    constructor(name: string);
    add(value: number): void;
  }
}
declare module "k6/websockets" {
  export class WebSocket {
    constructor(url: string, protocols?: string | string[] | null, params?: { headers?: Record<string, string> });
    onopen: (() => void) | null;
    onmessage: ((e: { data: string }) => void) | null;
    onclose: ((e: { code?: number }) => void) | null;
    onerror: ((e: { error?: string }) => void) | null;
    send(data: string): void;
    close(code?: number): void;
  }
}
declare module "k6/http" {
  const http: {
    asyncRequest(method: string, url: string, body?: string, params?: { headers?: Record<string, string> }): Promise<{ status: number }>;
  };
  export default http;
}
declare module "k6/timers" {
  export function setTimeout(fn: () => void, ms: number): number;
}
declare module "k6/execution" {
  const exec: { vu: { idInTest: number; iterationInScenario: number } };
  export default exec;
}
/** Environment of a k6 run (`k6 run -e NAME=value`). */
declare const __ENV: Record<string, string | undefined>;

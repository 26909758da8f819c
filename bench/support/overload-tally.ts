import { pct } from "./bench-client.ts";

/** How the turn/starts of an overloaded step were answered: refusals by reason, errors by code, answer times. */
export class OverloadTally {
  readonly refusalsByReason: Record<string, number> = {};
  readonly errorsByCode: Record<string, number> = {};
  readonly #refusalMs: number[] = [];
  readonly #admitMs: number[] = [];
  #withRetry = 0;
  #withoutRetry = 0;
  #slowest = 0;
  #timeouts = 0;

  /** A turn/start not answered at all (the load generator stopped waiting). */
  unanswered(): void {
    this.#timeouts++;
  }

  answered(ms: number, error: { code: number; data?: any } | null, timeoutMs = 10_000): void {
    if (ms > this.#slowest) this.#slowest = ms;
    if (ms > timeoutMs) this.#timeouts++;
    if (error === null) {
      this.#admitMs.push(ms);
      return;
    }
    if (error.code !== -32001) {
      this.errorsByCode[error.code] = (this.errorsByCode[error.code] ?? 0) + 1;
      return;
    }
    this.#refusalMs.push(ms);
    const reason = String(error.data?.reason ?? "none");
    this.refusalsByReason[reason] = (this.refusalsByReason[reason] ?? 0) + 1;
    if (Number(error.data?.retryAfterMs) > 0) this.#withRetry++;
    else this.#withoutRetry++;
  }

  summary(timeoutMs: number): Record<string, unknown> & { timeouts: number } {
    const ms = (xs: number[]) => (xs.length > 0 ? { p50: pct(xs, 50), p99: pct(xs, 99), max: Number(xs.reduce((a, b) => Math.max(a, b), 0).toFixed(1)) } : null);
    return {
      refusals: { withRetryAfter: this.#withRetry, withoutRetryAfter: this.#withoutRetry, byReason: this.refusalsByReason, answeredInMs: ms(this.#refusalMs) },
      admittedAnsweredInMs: ms(this.#admitMs),
      errorsByCode: this.errorsByCode,
      internalErrors: this.errorsByCode["-32603"] ?? 0,
      timeouts: this.#timeouts,
      timeoutMs,
      slowestAnswerMs: Number(this.#slowest.toFixed(1)),
    };
  }
}

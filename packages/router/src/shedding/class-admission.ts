/** Priority classes, 0 (shed first) to 9 (shed last), as tenants and plans carry them. */
export const PRIORITY_CLASSES = 10;

export interface ClassAdmissionOptions {
  /** Pressure above which admission shrinks, and at or below which it grows back. Default 0.85. */
  targetPressure?: number;
  /** Admitted fraction a class gains per step without pressure (additive increase). Default 0.1. */
  increase?: number;
  /** Factor a class's admitted fraction is multiplied by per step under pressure (multiplicative decrease). Default 0.5. */
  decrease?: number;
  /** A class whose fraction falls below this is refused entirely. Default 0.02. */
  minFraction?: number;
  /** `retryAfterMs` at the target pressure, in ms. Default 1,000. */
  baseRetryAfterMs?: number;
  /** Largest `retryAfterMs`, in ms. Default 30,000. */
  maxRetryAfterMs?: number;
}

/**
 * Admission of new turns by priority class, adjusted once per pressure observation ({@link step}):
 * additive increase and multiplicative decrease of each class's admitted fraction. The fractions always
 * read `0 … 0, f, 1 … 1` from the lowest class up: pressure cuts the lowest class still admitted, relief
 * restores the highest class not fully admitted, so a higher class is never refused while a lower one
 * is admitted. Classes that asked nothing since the last step are passed over (cut to 0 below the class
 * being cut, restored to 1 above the class being restored). A fraction between 0 and 1 admits that
 * share of a class's requests, spread evenly (an accumulator per class, no randomness).
 *
 * {@link admit} is a few array reads and writes: the hot path allocates nothing.
 */
export class ClassAdmission {
  readonly #target: number;
  readonly #increase: number;
  readonly #decrease: number;
  readonly #minFraction: number;
  readonly #baseRetryAfterMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #admitted = new Float64Array(PRIORITY_CLASSES).fill(1);
  readonly #credit = new Float64Array(PRIORITY_CLASSES);
  /** Requests per class since the last step. */
  readonly #asked = new Uint32Array(PRIORITY_CLASSES);
  #pressure = 0;
  #retryAfterMs: number;

  constructor(opts: ClassAdmissionOptions = {}) {
    this.#target = opts.targetPressure ?? 0.85;
    this.#increase = opts.increase ?? 0.1;
    this.#decrease = opts.decrease ?? 0.5;
    this.#minFraction = opts.minFraction ?? 0.02;
    this.#baseRetryAfterMs = opts.baseRetryAfterMs ?? 1_000;
    this.#maxRetryAfterMs = opts.maxRetryAfterMs ?? 30_000;
    this.#retryAfterMs = this.#baseRetryAfterMs;
  }

  /** The last pressure observed. */
  get pressure(): number {
    return this.#pressure;
  }

  /** What a refused client is told to wait, in ms: grows with the square of pressure over the target. */
  get retryAfterMs(): number {
    return this.#retryAfterMs;
  }

  /** The share of a class's new turns admitted now, 0 to 1. */
  admittedFraction(cls: number): number {
    return this.#admitted[clampClass(cls)]!;
  }

  /** True when a new turn of class `cls` is admitted now; counts the request either way. */
  admit(cls: number): boolean {
    const c = clampClass(cls);
    this.#asked[c]!++;
    const f = this.#admitted[c]!;
    if (f >= 1) return true;
    if (f <= 0) return false;
    const credit = this.#credit[c]! + f;
    if (credit >= 1) {
      this.#credit[c] = credit - 1;
      return true;
    }
    this.#credit[c] = credit;
    return false;
  }

  /** One pressure observation: shrinks the lowest admitted class above the target, else grows the highest held back. */
  step(pressure: number): void {
    this.#pressure = pressure;
    const ratio = Math.max(1, pressure / this.#target);
    this.#retryAfterMs = Math.round(Math.min(this.#maxRetryAfterMs, this.#baseRetryAfterMs * ratio * ratio));
    if (pressure > this.#target) this.#cut();
    else this.#restore();
    this.#asked.fill(0);
  }

  #cut(): void {
    const a = this.#admitted;
    for (let c = 0; c < PRIORITY_CLASSES; c++) {
      if (a[c] === 0) continue;
      if (this.#asked[c] === 0 && c < PRIORITY_CLASSES - 1) {
        a[c] = 0;
        continue;
      }
      const f = a[c]! * this.#decrease;
      a[c] = f < this.#minFraction ? 0 : f;
      return;
    }
  }

  #restore(): void {
    const a = this.#admitted;
    for (let c = PRIORITY_CLASSES - 1; c >= 0; c--) {
      if (a[c] === 1) continue;
      if (this.#asked[c] === 0) {
        a[c] = 1;
        this.#credit[c] = 0;
        continue;
      }
      a[c] = Math.min(1, a[c]! + this.#increase);
      return;
    }
  }
}

function clampClass(cls: number): number {
  return cls <= 0 ? 0 : cls >= PRIORITY_CLASSES - 1 ? PRIORITY_CLASSES - 1 : cls | 0;
}

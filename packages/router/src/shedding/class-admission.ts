/** A change of pressure between two steps, against the target, that counts as rising or falling. */
const STEADY = 0.02;
/** Longest wait, in steps, for pressure to settle after a class was shed entirely. */
const MAX_SETTLE_STEPS = 120;

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
  /**
   * Least steps after a class was shed entirely before the next class up starts being cut. Turns
   * already running are not shed, so a cut shows in the hosts' load only as they end: about as many
   * steps (heartbeat periods) as a turn usually lasts. Default 30.
   */
  settleSteps?: number;
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
 * is admitted. After a class was shed entirely, the next one up is cut only once the cut had time to
 * show: `settleSteps`, and then only while pressure stays level over the target (still rising, turns
 * admitted before the cut still weigh; falling, the cut is taking effect). Classes that asked nothing
 * since the last step are passed over (refused below the class being cut, restored above the class
 * being restored); a step without any request cuts nothing. A fraction between 0 and 1 admits that
 * share of a class's requests, spread evenly (an accumulator per class, no randomness).
 *
 * {@link admit} is a few array reads and writes: the hot path allocates nothing.
 */
export class ClassAdmission {
  readonly #target: number;
  readonly #increase: number;
  readonly #decrease: number;
  readonly #minFraction: number;
  readonly #settleSteps: number;
  readonly #baseRetryAfterMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #admitted = new Float64Array(PRIORITY_CLASSES).fill(1);
  readonly #credit = new Float64Array(PRIORITY_CLASSES);
  /** Requests per class since the last step. */
  readonly #asked = new Uint32Array(PRIORITY_CLASSES);
  #pressure = 0;
  #retryAfterMs: number;
  #steps = 0;
  /** The step at which a class with requests was last shed entirely, and that class. */
  #emptiedAt = -Infinity;
  #emptied = -1;

  constructor(opts: ClassAdmissionOptions = {}) {
    this.#target = opts.targetPressure ?? 0.85;
    this.#increase = opts.increase ?? 0.1;
    this.#decrease = opts.decrease ?? 0.5;
    this.#minFraction = opts.minFraction ?? 0.02;
    this.#settleSteps = opts.settleSteps ?? 30;
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

  /**
   * One pressure observation: shrinks the lowest admitted class above the target, else grows the
   * highest held back. `backlog`, when given, is the pressure of what runs now while `pressure` is where
   * the turns being admitted lead (see `projectedTurnPressure`): a class is only restored when both are
   * at or below the target, so that turns admitted before a cut do not bring it back while they run.
   */
  step(pressure: number, backlog = pressure): void {
    const previous = this.#pressure;
    this.#pressure = pressure;
    this.#steps++;
    const ratio = Math.max(1, Math.max(pressure, backlog) / this.#target);
    this.#retryAfterMs = Math.round(Math.min(this.#maxRetryAfterMs, this.#baseRetryAfterMs * ratio * ratio));
    if (pressure <= this.#target) {
      if (backlog <= this.#target) this.#restore();
    } else this.#cut(Math.abs(pressure - previous) <= STEADY * this.#target);
    this.#asked.fill(0);
  }

  #cut(steady: boolean): void {
    const a = this.#admitted;
    let c = 0;
    while (c < PRIORITY_CLASSES && (a[c] === 0 || this.#asked[c] === 0)) c++;
    // Nobody asked for a turn since the last step: nothing to learn, nothing to cut.
    if (c === PRIORITY_CLASSES) return;
    if (a[c] === 1 && this.#emptied >= 0 && c > this.#emptied && this.#settling(steady)) return;
    // Classes below that asked nothing are refused outright: a higher class is about to be held back.
    for (let below = 0; below < c; below++) a[below] = 0;
    const f = a[c]! * this.#decrease;
    a[c] = f < this.#minFraction ? 0 : f;
    if (a[c] === 0) {
      this.#emptiedAt = this.#steps;
      this.#emptied = c;
    }
  }

  /**
   * True while the class last shed entirely may still be showing in the hosts' load: for `settleSteps`,
   * and after that while pressure still moves (at most {@link MAX_SETTLE_STEPS}).
   */
  #settling(steady: boolean): boolean {
    const since = this.#steps - this.#emptiedAt;
    return since <= MAX_SETTLE_STEPS && (!steady || since <= this.#settleSteps);
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
      if (c <= this.#emptied) {
        this.#emptied = -1;
        this.#emptiedAt = -Infinity;
      }
      return;
    }
  }
}

function clampClass(cls: number): number {
  return cls <= 0 ? 0 : cls >= PRIORITY_CLASSES - 1 ? PRIORITY_CLASSES - 1 : cls | 0;
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * One Prometheus registry per process. Instruments are created on first use and shared by name, so a
 * component asks for `counter("tm_frames_in_total", …)` without caring who registered it first.
 */
export class Metrics {
  readonly registry: Registry;
  private readonly instruments = new Map<string, Counter | Gauge | Histogram>();

  constructor(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}) {
    this.registry = new Registry();
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.get(name, () => new Counter({ name, help, labelNames, registers: [this.registry] })) as Counter<L>;
  }

  gauge<L extends string = string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.get(name, () => new Gauge({ name, help, labelNames, registers: [this.registry] })) as Gauge<L>;
  }

  histogram<L extends string = string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ): Histogram<L> {
    return this.get(name, () => new Histogram({ name, help, labelNames, buckets, registers: [this.registry] })) as Histogram<L>;
  }

  /** Text exposition for `/metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private get(name: string, make: () => Counter | Gauge | Histogram): Counter | Gauge | Histogram {
    let m = this.instruments.get(name);
    if (!m) {
      m = make();
      this.instruments.set(name, m);
    }
    return m;
  }
}

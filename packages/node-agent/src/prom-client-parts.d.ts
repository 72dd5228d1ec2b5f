// The four prom-client modules the agent's metrics use, imported one by one (see metrics.ts): prom-client's index
// also loads its cluster aggregator, push gateway and default metrics (and with them node's v8 module, and zlib,
// perf_hooks, cluster sooner than needed) at every px-node start. Each module exports its class as `module.exports`;
// the types are prom-client's own (Node and esbuild give an ES module importing CommonJS `module.exports` as its
// default).
declare module 'prom-client/lib/registry.js' {
  import type { Registry } from 'prom-client';
  const RegistryClass: typeof Registry;
  export default RegistryClass;
}
declare module 'prom-client/lib/counter.js' {
  import type { Counter } from 'prom-client';
  const CounterClass: typeof Counter;
  export default CounterClass;
}
declare module 'prom-client/lib/gauge.js' {
  import type { Gauge } from 'prom-client';
  const GaugeClass: typeof Gauge;
  export default GaugeClass;
}
declare module 'prom-client/lib/histogram.js' {
  import type { Histogram } from 'prom-client';
  const HistogramClass: typeof Histogram;
  export default HistogramClass;
}

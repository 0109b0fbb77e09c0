// The slice of autocannon's API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  export interface Options {
    url: string
    connections?: number
    duration?: number
    workers?: number
    headers?: Record<string, string>
    requests?: { path?: string; method?: string; headers?: Record<string, string>; body?: string }[]
  }
  export interface Histogram {
    average: number
    mean: number
    p50: number
    p90: number
    p99: number
    max: number
    total: number
  }
  export interface Result {
    duration: number
    requests: Histogram
    latency: Histogram
    throughput: Histogram
    errors: number
    timeouts: number
    non2xx: number
  }
  function autocannon(opts: Options, cb: (err: Error | null, result: Result) => void): unknown
  export default autocannon
}

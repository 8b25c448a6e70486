import { cpus, totalmem } from 'node:os';

/** Latency summary of a list of milliseconds: p50, p95, p99, mean, rounded to 0.01 ms. */
export function summarize(ms: readonly number[]): { n: number; p50: number; p95: number; p99: number; mean: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
  const round = (v: number): number => Math.round(v * 100) / 100;
  return { n: ms.length, p50: round(at(50)), p95: round(at(95)), p99: round(at(99)), mean: round(ms.reduce((a, b) => a + b, 0) / (ms.length || 1)) };
}

/** Time an async function in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** The machine a benchmark ran on, for its report. */
export function describeMachine(): { cpus: number; cpu_model: string; memory_gb: number; node: string; platform: string } {
  return { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform };
}

import { Worker } from 'node:worker_threads';

/**
 * Start the worker module `name` (a file beside `from`, without extension) from
 * the build, or, when the caller runs from source (tests, tsx), from the .ts
 * file through tsx's loader, which a worker does not inherit.
 */
export function startModuleWorker(from: string, name: string, workerData: unknown): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from), { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, from).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

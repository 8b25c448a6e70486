import type { Runtime } from '../../runtime.js';
import type { SessionRegistry } from './sessions.js';

/** How the HTTP transport listens and what it allows. */
export interface HttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Host header values accepted besides the loopback names (entries without a port match any port). */
  allowedHosts: readonly string[];
  /** Origins accepted besides the loopback ones. */
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  maxSessions: number;
  maxCallsPerSession: number;
  sessionIdleMs: number;
}

/** What the request handlers share. */
export interface HttpContext {
  readonly runtime: Runtime;
  readonly registry: SessionRegistry;
  readonly options: HttpOptions;
  /** True once shutdown has begun: no new sessions. */
  readonly closing: () => boolean;
}

/** A real redis-server on a free loopback port, keeping nothing on disk: shared with the scripts (benchmarks). */
export { NO_REDIS_MESSAGE, redisServerAvailable, startRedis, type TestRedis } from '../../scripts/lib/redis-server.js';

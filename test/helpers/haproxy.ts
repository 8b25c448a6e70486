/** A real haproxy with the shipped rules in front of loopback Pinak servers: shared with the scripts (benchmarks). */
export { FAST_CHECKS, haproxyBinary, startHaproxy, type Backend, type Haproxy } from '../../scripts/lib/haproxy.js';

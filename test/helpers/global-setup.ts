import { build } from '../../scripts/lib/build.js';

/** The e2e tier runs the built CLI, so build once before any test file runs. */
export default function setup(): void {
  build();
}

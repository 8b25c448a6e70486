/** A one-line progress bar on a terminal; nothing when stderr is not one. */
export function progressBar(label: string): { update(done: number, total: number): void; end(): void } {
  if (!process.stderr.isTTY) return { update() {}, end() {} };
  return {
    update(done, total) {
      const width = 30;
      const share = total <= 0 ? 1 : Math.min(1, done / total);
      const filled = Math.round(share * width);
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    end: () => process.stderr.write('\n'),
  };
}

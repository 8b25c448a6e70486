/** Where a table is printed: how wide, and whether it may use ANSI styles (a terminal only). */
export interface Screen {
  width: number;
  styled: boolean;
}

/** Width when stdout is not a terminal (a pipe or a file): wide enough to read, narrow enough to diff. */
export const PIPE_WIDTH = 100;
const NARROWEST = 40;

/** stdout as a screen: its columns on a terminal, PIPE_WIDTH elsewhere; styles on a terminal only. */
export function stdoutScreen(): Screen {
  const tty = process.stdout.isTTY === true;
  return { width: Math.max(NARROWEST, tty && process.stdout.columns ? process.stdout.columns : PIPE_WIDTH), styled: tty };
}

/** One line of text: line breaks and runs of white space as one space, control characters dropped. */
export const oneLine = (text: string): string =>
  text
    .replace(/\s+/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .trim();

/** Text cut to `width` characters (code points), ending in … when cut. */
export function clip(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return width <= 0 ? '' : `${chars.slice(0, width - 1).join('')}…`;
}

const length = (text: string): number => Array.from(text).length;
const pad = (text: string, width: number): string => text + ' '.repeat(Math.max(0, width - length(text)));

/** The least room the last column (the text) keeps before other columns are left out. */
const TEXT_ROOM = 24;

/**
 * Rows as aligned columns under bold headers (plain on a pipe), the last
 * column taking what room is left and cut to fit, every line within the
 * screen's width. On a narrow screen the columns in `drop` are left out,
 * in that order, until the last one has room.
 */
export function table(allHeaders: readonly string[], allRows: ReadonlyArray<readonly string[]>, screen: Screen, drop: readonly number[] = []): string {
  let keep = allHeaders.map((_, i) => i);
  const cellsOf = (row: readonly string[]): string[] => keep.map((i) => oneLine(row[i] ?? ''));
  const room = (): number => {
    const widths = keep.slice(0, -1).map((i) => Math.max(length(allHeaders[i]!), ...allRows.map((row) => length(oneLine(row[i] ?? '')))));
    return screen.width - widths.reduce((sum, width) => sum + width + 2, 0);
  };
  for (const column of drop) if (room() < TEXT_ROOM) keep = keep.filter((i) => i !== column);
  const headers = keep.map((i) => allHeaders[i]!);
  const cells = allRows.map(cellsOf);
  const widths = headers.map((header, i) => Math.max(length(header), ...cells.map((row) => length(row[i] ?? ''))));
  const lastAt = headers.length - 1;
  const line = (row: readonly string[]): string => {
    let text = row
      .slice(0, lastAt)
      .map((cell, i) => pad(cell, widths[i]!))
      .join('  ');
    text = lastAt === 0 ? row[0]! : `${text}  ${row[lastAt]}`;
    return clip(text.trimEnd(), screen.width);
  };
  const head = line(headers);
  return `${screen.styled ? `\u001b[1m${head}\u001b[22m` : head}\n${cells.map((row) => `${line(row)}\n`).join('')}`;
}

/** Label: value lines, the labels aligned, each line within the width. */
export function pairs(entries: ReadonlyArray<readonly [string, string]>, screen: Screen): string {
  const width = Math.max(...entries.map(([label]) => length(label)));
  return entries
    .map(([label, value]) => {
      const shown = pad(label, width);
      return `${clip(`${screen.styled ? `\u001b[1m${shown}\u001b[22m` : shown}  ${oneLine(value)}`, screen.width + (screen.styled ? 9 : 0))}\n`;
    })
    .join('');
}

// Colour only when writing to a terminal and NO_COLOR is unset (https://no-color.org).
import Table from 'cli-table3';

function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
}

const codes = { bold: [1, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], dim: [2, 22] } as const;
export type StyleName = keyof typeof codes;

export function paint(text: string, style: StyleName, on = useColor()): string {
  if (!on) return text;
  const [a, b] = codes[style];
  return `\x1b[${a}m${text}\x1b[${b}m`;
}

/** cli-table3 colours its header and borders by default, even when piped: switch that off. */
export function table(head: string[], opts: { colWidths?: number[]; wordWrap?: boolean } = {}): Table.Table {
  const color = useColor();
  return new Table({
    head: color ? head.map((h) => paint(h, 'bold', true)) : head.every((h) => h === '') ? [] : head,
    style: { head: [], border: [] },
    wordWrap: opts.wordWrap ?? true,
    wrapOnWordBoundary: false,
    ...(opts.colWidths ? { colWidths: opts.colWidths } : {}),
  });
}

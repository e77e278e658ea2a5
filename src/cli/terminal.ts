/**
 * Where the CLI writes: results to stdout (machine-readable when piped), everything about the run (target,
 * identity, progress, warnings, errors) to stderr. Colour only on a TTY and never when NO_COLOR is set
 * (https://no-color.org); progress only on a TTY, as one line redrawn in place.
 */

/** The parts of a stream the CLI uses; process.stdout / process.stderr in real runs. */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
}

export interface Terminal {
  /** Writes a result (stdout). */
  out(text: string): void;
  /** Writes a line about the run (stderr), clearing any progress line first. */
  info(text: string): void;
  /** Styles for stdout text; identity functions when stdout is not a colour TTY. */
  readonly style: Style;
  /** Styles for stderr text. */
  readonly errStyle: Style;
  readonly stderrIsTTY: boolean;
  /**
   * The width tables must fit: the terminal's columns when stdout is a terminal, undefined (no limit) when piped
   * or with --wide, so scripts and `--wide` always get every character of every ID.
   */
  readonly tableWidth: number | undefined;
  /** Shows (TTY) or ignores (piped) a transient status line; `progress(undefined)` clears it. */
  progress(text: string | undefined): void;
}

const ANSI = { bold: [1, 22], dim: [2, 22], red: [31, 39], yellow: [33, 39], green: [32, 39] } as const;

/** NO_COLOR counts when present and not empty, as no-color.org defines it. */
function colourAllowed(stream: OutputStream, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && (env["NO_COLOR"] === undefined || env["NO_COLOR"] === "");
}

function styleFor(enabled: boolean): Style {
  const wrap = ([open, close]: readonly [number, number]) => (text: string) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return { bold: wrap(ANSI.bold), dim: wrap(ANSI.dim), red: wrap(ANSI.red), yellow: wrap(ANSI.yellow), green: wrap(ANSI.green) };
}

/** Styles that change nothing: for text written to files. */
export const PLAIN_STYLE: Style = styleFor(false);

/** Builds the terminal for one run. */
export function createTerminal(
  stdout: OutputStream,
  stderr: OutputStream,
  env: Readonly<Record<string, string | undefined>>,
  options: { readonly wide?: boolean | undefined } = {},
): Terminal {
  const stderrIsTTY = stderr.isTTY === true;
  const tableWidth = options.wide || stdout.isTTY !== true || stdout.columns === undefined || stdout.columns < 20 ? undefined : stdout.columns;
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) stderr.write("\r\u001b[2K");
    progressShown = false;
  };
  return {
    out: (text) => {
      if (stdout.isTTY === true) clearProgress();
      stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    },
    info: (text) => {
      clearProgress();
      stderr.write(text.endsWith("\n") ? text : `${text}\n`);
    },
    style: styleFor(colourAllowed(stdout, env)),
    errStyle: styleFor(colourAllowed(stderr, env)),
    stderrIsTTY,
    tableWidth,
    progress: (text) => {
      if (!stderrIsTTY) return;
      if (text === undefined) {
        clearProgress();
        return;
      }
      const width = (stderr.columns !== undefined && stderr.columns > 20 ? stderr.columns : 80) - 1;
      const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
      stderr.write(`\r\u001b[2K${line}`);
      progressShown = true;
    },
  };
}

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Optional styling applied after padding (so colour codes do not upset widths). */
  readonly style?: (text: string, row: T) => string;
  /**
   * How the column gives way when the table is wider than the terminal: `end` cuts the end (`abc…`), `middle` keeps
   * both ends of an ID (`contoso-apim/pe-a…5d2c`). Columns without it keep their width (status, action, dates).
   */
  readonly shrink?: "end" | "middle";
}

const ELLIPSIS = "…";
/** A shrinkable column is never cut below this, whatever the terminal: a few characters of an ID still help. */
const MIN_SHRUNK_WIDTH = 12;
const GAP = 2;

/** Cuts text to `width` characters, marking the cut with an ellipsis. */
export function truncate(text: string, width: number, where: "end" | "middle" = "end"): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return ELLIPSIS;
  if (where === "end") return `${chars.slice(0, width - 1).join("")}${ELLIPSIS}`;
  const tail = Math.floor((width - 1) / 2);
  return `${chars.slice(0, width - 1 - tail).join("")}${ELLIPSIS}${chars.slice(chars.length - tail).join("")}`;
}

/** Column widths that fit `maxWidth`: the widest shrinkable column gives way first, one character at a time. */
function fitWidths(natural: readonly number[], columns: readonly Column<unknown>[], maxWidth: number | undefined): number[] {
  const widths = [...natural];
  if (maxWidth === undefined) return widths;
  const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP * (widths.length - 1);
  while (total() > maxWidth) {
    let widest = -1;
    columns.forEach((column, i) => {
      if (column.shrink !== undefined && widths[i]! > MIN_SHRUNK_WIDTH && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    widths[widest]! -= 1;
  }
  return widths;
}

/**
 * A plain-text table: a header line, then one padded line per row; the last column is not padded. With
 * `maxWidth` (the terminal's width), columns marked `shrink` are cut with an ellipsis until the lines fit.
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], header: (text: string) => string = (t) => t, maxWidth?: number): string {
  const natural = columns.map((column) => Math.max(column.header.length, ...rows.map((row) => [...column.value(row)].length)));
  const widths = fitWidths(natural, columns as readonly Column<unknown>[], maxWidth === undefined ? undefined : maxWidth - 1);
  const cells = rows.map((row) => columns.map((column, i) => truncate(column.value(row), widths[i]!, column.shrink)));
  const pad = (text: string, i: number) => (i === columns.length - 1 ? text : text + " ".repeat(Math.max(0, widths[i]! - [...text].length)));
  const lines = [header(columns.map((c, i) => pad(truncate(c.header, widths[i]!), i)).join("  ").trimEnd())];
  rows.forEach((row, r) => {
    lines.push(
      columns
        .map((column, i) => {
          const padded = pad(cells[r]![i]!, i);
          return column.style ? column.style(padded, row) : padded;
        })
        .join("  ")
        .trimEnd(),
    );
  });
  return `${lines.join("\n")}\n`;
}

/** JSON for stdout: two-space indented, trailing newline. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

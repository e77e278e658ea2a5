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
): Terminal {
  const stderrIsTTY = stderr.isTTY === true;
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
}

/** A plain-text table: a header line, then one padded line per row; the last column is not padded. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], header: (text: string) => string = (t) => t): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i]!.length)));
  const pad = (text: string, i: number) => (i === columns.length - 1 ? text : text.padEnd(widths[i]!));
  const lines = [header(columns.map((c, i) => pad(c.header, i)).join("  ").trimEnd())];
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

/** Where rendered text goes: stdout or stderr in the CLI, a buffer in tests. */
export interface OutputStream {
  write(text: string): void;
  readonly isTTY: boolean;
  /** A terminal's width in columns (tables wrap to it); undefined for a pipe, a file or a buffer. */
  readonly columns?: number | undefined;
}

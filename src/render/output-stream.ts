/** Where rendered text goes: stdout or stderr in the CLI, a buffer in tests. */
export interface OutputStream {
  write(text: string): void;
  readonly isTTY: boolean;
}

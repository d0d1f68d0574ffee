// cli-table3's own width measure (string-width after its colour codes are stripped) and its cell
// wrapping, used so that what src/render/table.ts lays out itself matches what cli-table3 would
// print. cli-table3 is pinned (0.6.5): these are its internals.
declare module 'cli-table3/src/utils.js' {
  const utils: {
    strlen(text: string): number;
    /** The lines of a cell wrapped to maxLength columns, at word boundaries or anywhere. */
    wordWrap(maxLength: number, input: string, wrapOnWordBoundary?: boolean): string[];
  };
  export default utils;
}

// cli-table3's own width measure (string-width after its colour codes are stripped), used so a
// table's column widths are the ones cli-table3 would compute. cli-table3 is pinned (0.6.5).
declare module 'cli-table3/src/utils.js' {
  const utils: { strlen(text: string): number };
  export default utils;
}

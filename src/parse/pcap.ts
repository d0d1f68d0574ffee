// The pcap file format (the classic one tcpdump -w writes): a 24-byte header whose magic number
// gives byte order and time resolution, then records of a 16-byte header (incl_len at offset 8)
// and incl_len bytes. Used to check what came back from a node and to cut a size-capped copy at a
// record boundary, so a truncated file still opens in Wireshark.

const MAGICS = new Map<number, { littleEndian: boolean; nanoseconds: boolean }>([
  [0xa1b2c3d4, { littleEndian: false, nanoseconds: false }],
  [0xd4c3b2a1, { littleEndian: true, nanoseconds: false }],
  [0xa1b23c4d, { littleEndian: false, nanoseconds: true }],
  [0x4d3cb2a1, { littleEndian: true, nanoseconds: true }],
]);
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export interface PcapInfo {
  littleEndian: boolean;
  nanoseconds: boolean;
  linkType: number;
  snapLength: number;
  records: number; // whole records
  wholeBytes: number; // bytes up to the end of the last whole record
}

/** null when the bytes are not a pcap file (wrong magic or shorter than its header). */
export function readPcapInfo(bytes: Uint8Array): PcapInfo | null {
  if (bytes.length < FILE_HEADER) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = MAGICS.get(view.getUint32(0, false));
  if (!kind) return null;
  const le = kind.littleEndian;
  let offset = FILE_HEADER;
  let records = 0;
  while (offset + RECORD_HEADER <= bytes.length) {
    const included = view.getUint32(offset + 8, le);
    if (offset + RECORD_HEADER + included > bytes.length) break;
    offset += RECORD_HEADER + included;
    records++;
  }
  return { ...kind, snapLength: view.getUint32(16, le), linkType: view.getUint32(20, le), records, wholeBytes: offset };
}

/** The file cut after its last whole record (unchanged when it already ends on one). */
export function trimPcapToWholeRecords(bytes: Uint8Array): Uint8Array {
  const info = readPcapInfo(bytes);
  if (!info) return bytes;
  return info.wholeBytes === bytes.length ? bytes : bytes.subarray(0, info.wholeBytes);
}

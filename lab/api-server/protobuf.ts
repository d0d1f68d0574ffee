// Just enough of the Kubernetes protobuf encoding to read the one protobuf body kubectl sends us:
// `kubectl auth can-i` posts a SelfSubjectAccessReview as application/vnd.kubernetes.protobuf.
// Envelope: "k8s\0" + runtime.Unknown{1: typeMeta, 2: raw, 3: contentEncoding, 4: contentType}.

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type ProtoFields = Map<number, Buffer[]>; // field number -> length-delimited values

function readVarint(buf: Buffer, offset: number): [number, number] {
  let value = 0;
  let shift = 0;
  let pos = offset;
  for (;;) {
    const byte = buf[pos];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * 2 ** shift;
    pos++;
    if ((byte & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

// Collects the length-delimited fields of one message; other wire types are skipped.
export function parseProtoFields(buf: Buffer): ProtoFields {
  const fields: ProtoFields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    pos = afterKey;
    if (wire === 0) pos = readVarint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [length, start] = readVarint(buf, pos);
      if (start + length > buf.length) throw new Error('truncated field');
      fields.set(field, [...(fields.get(field) ?? []), buf.subarray(start, start + length)]);
      pos = start + length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return fields;
}

function text(fields: ProtoFields, field: number): string | undefined {
  const value = fields.get(field)?.[0];
  return value === undefined ? undefined : value.toString('utf8');
}

// Decodes a protobuf SelfSubjectAccessReview into its JSON shape (spec only).
export function decodeSelfSubjectAccessReview(body: Buffer): Record<string, unknown> {
  if (!body.subarray(0, 4).equals(MAGIC)) throw new Error('missing the k8s protobuf magic prefix');
  const raw = parseProtoFields(body.subarray(4)).get(2)?.[0];
  if (!raw) throw new Error('protobuf envelope has no object');
  const specBytes = parseProtoFields(raw).get(2)?.[0];
  const spec: Record<string, unknown> = {};
  if (specBytes) {
    const specFields = parseProtoFields(specBytes);
    const resource = specFields.get(1)?.[0];
    const nonResource = specFields.get(2)?.[0];
    if (resource) {
      const f = parseProtoFields(resource);
      const names = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
      spec.resourceAttributes = Object.fromEntries(names.map((n, i) => [n, text(f, i + 1)]).filter(([, v]) => v !== undefined));
    }
    if (nonResource) {
      const f = parseProtoFields(nonResource);
      spec.nonResourceAttributes = { path: text(f, 1) ?? '', verb: text(f, 2) ?? '' };
    }
  }
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec };
}

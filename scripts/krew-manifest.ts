// The krew Plugin manifest: fill plugin.yaml's template for one release, and check the result
// against krew's own rules (sigs.k8s.io/krew internal/index/validation ValidatePlugin and
// validatePlatform, plus krew's semver parser that wants the `v` prefix) before anyone submits it.
// Pure functions: scripts/krew-release.ts does the I/O.
import { load } from 'js-yaml';

export const KREW_API_VERSION = 'krew.googlecontainertools.github.com/v1alpha2';
export const PLUGIN_NAME = 'netdiag';
// krew itself only forbids empty and multi-line text; the index's reviewers ask for a short
// phrase, and `kubectl krew search` prints it in one table column. 50 is this project's cap.
export const SHORT_DESCRIPTION_MAX = 50;

export interface KrewRelease {
  version: string; // v0.1.0
  homepage: string;
  uri: string; // where the archive is downloaded from
  sha256: string; // of that archive, lower-case hex
}

export type TemplateKey = 'VERSION' | 'HOMEPAGE' | 'URI' | 'SHA256';

/** Replaces each quoted `"{{KEY}}"` value with the release's value; comments are left alone. */
export function fillKrewTemplate(template: string, release: KrewRelease): string {
  const values: Record<TemplateKey, string> = {
    VERSION: release.version,
    HOMEPAGE: release.homepage,
    URI: release.uri,
    SHA256: release.sha256,
  };
  const filled = template.replace(/"\{\{([A-Z0-9]+)\}\}"/g, (whole, key: string) => {
    if (!(key in values)) throw new Error(`plugin.yaml: unknown template value ${whole}`);
    return JSON.stringify(values[key as TemplateKey]);
  });
  return filled;
}

// krew's semver.Parse: a leading `v`, then semver 2.0 (major.minor.patch, optional pre-release/build).
const SEMVER_WITH_V =
  /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const SHA256 = /^[a-f0-9]{64}$/;
const SAFE_PLUGIN_NAME = /^[\w-]+$/;
const SELECTOR_KEYS = new Set(['os', 'arch']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every rule the manifest breaks, as sentences; empty when krew would accept it. */
export function validateKrewManifest(manifest: unknown, expectedName = PLUGIN_NAME): string[] {
  const problems: string[] = [];
  if (!isObj(manifest)) return ['the manifest is not a YAML mapping'];
  if (manifest.apiVersion !== KREW_API_VERSION) problems.push(`apiVersion must be ${KREW_API_VERSION}, not ${JSON.stringify(manifest.apiVersion)}`);
  if (manifest.kind !== 'Plugin') problems.push(`kind must be Plugin, not ${JSON.stringify(manifest.kind)}`);
  const name = isObj(manifest.metadata) ? manifest.metadata.name : undefined;
  if (typeof name !== 'string' || !SAFE_PLUGIN_NAME.test(name)) problems.push(`metadata.name ${JSON.stringify(name)} must match ${SAFE_PLUGIN_NAME}`);
  else if (name !== expectedName) problems.push(`metadata.name must be ${expectedName}, not ${name}`);
  const spec = manifest.spec;
  if (!isObj(spec)) return [...problems, 'spec is missing'];

  if (typeof spec.version !== 'string' || !SEMVER_WITH_V.test(spec.version)) {
    problems.push(`spec.version ${JSON.stringify(spec.version)} must be a semantic version with a v prefix (v1.2.3)`);
  }
  const short = spec.shortDescription;
  if (typeof short !== 'string' || short.trim() === '') problems.push('spec.shortDescription is required');
  else {
    if (/[\r\n]/.test(short)) problems.push('spec.shortDescription must be one line');
    if (short.length > SHORT_DESCRIPTION_MAX) problems.push(`spec.shortDescription is ${short.length} characters; keep it to ${SHORT_DESCRIPTION_MAX}`);
  }
  if (spec.homepage !== undefined && (typeof spec.homepage !== 'string' || !spec.homepage.startsWith('https://'))) {
    problems.push(`spec.homepage ${JSON.stringify(spec.homepage)} must be an https:// URL`);
  }
  if (!Array.isArray(spec.platforms) || spec.platforms.length === 0) return [...problems, 'spec.platforms must list at least one platform'];
  spec.platforms.forEach((platform: unknown, i: number) => {
    for (const p of validatePlatform(platform)) problems.push(`spec.platforms[${i}]: ${p}`);
  });
  return problems;
}

function validatePlatform(platform: unknown): string[] {
  if (!isObj(platform)) return ['must be a mapping'];
  const problems: string[] = [];
  const { uri, sha256, bin, files, selector } = platform;
  if (typeof uri !== 'string' || uri === '') problems.push('uri is required');
  else if (!/^https:\/\/[^\s/]+\/\S+$/.test(uri)) problems.push(`uri ${JSON.stringify(uri)} must be an https:// URL of the archive`);
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) problems.push(`sha256 ${JSON.stringify(sha256)} must be 64 lower-case hex digits`);
  if (typeof bin !== 'string' || bin === '') problems.push('bin is required');
  if (files !== undefined) {
    if (!Array.isArray(files) || files.length === 0) problems.push('files must be left out or be non-empty');
    else {
      files.forEach((f: unknown, j: number) => {
        if (!isObj(f) || typeof f.from !== 'string' || f.from === '') problems.push(`files[${j}].from is required`);
        else if (typeof f.to !== 'string' || f.to === '') problems.push(`files[${j}].to is required`);
      });
      // krew links `bin` from the installed files: it must be one of them.
      if (typeof bin === 'string' && bin !== '' && !files.some((f: unknown) => isObj(f) && installedPath(f) === normalise(bin))) {
        problems.push(`bin ${bin} is not among the files krew installs`);
      }
    }
  }
  problems.push(...validateSelector(selector));
  return problems;
}

/** Where a `files` entry lands: `to: .` keeps the name of `from`. */
function installedPath(f: Obj): string {
  const from = normalise(String(f.from));
  const to = normalise(String(f.to));
  return to === '' ? from.split('/').pop()! : to;
}

const normalise = (p: string) => p.replace(/^\.\//, '').replace(/^\.$/, '').replace(/\/+$/, '');

function validateSelector(selector: unknown): string[] {
  if (!isObj(selector)) return ['selector is required'];
  const labels = selector.matchLabels;
  const expressions = selector.matchExpressions;
  if (labels === undefined && (expressions === undefined || (Array.isArray(expressions) && expressions.length === 0))) return ['selector is empty'];
  const problems: string[] = [];
  const keys: string[] = [];
  if (labels !== undefined) {
    if (!isObj(labels) || Object.keys(labels).length === 0) problems.push('selector.matchLabels is given but empty');
    else keys.push(...Object.keys(labels));
  }
  if (expressions !== undefined) {
    if (!Array.isArray(expressions) || expressions.length === 0) problems.push('selector.matchExpressions is given but empty');
    else keys.push(...expressions.map((e: unknown) => (isObj(e) ? String(e.key) : '')));
  }
  for (const key of keys) if (!SELECTOR_KEYS.has(key)) problems.push(`selector key ${JSON.stringify(key)} is not supported (os, arch)`);
  return problems;
}

export function parseKrewManifest(text: string): unknown {
  return load(text);
}

/**
 * The archive members some platform would not install: krew moves only what a `files[].from`
 * glob matches (`*` within one path segment, as Go's filepath.Glob) and drops the rest. The
 * entry imports its chunks from its own directory, so a chunk left behind breaks commands.
 */
export function membersNotInstalled(manifest: unknown, members: readonly string[]): string[] {
  const platforms = isObj(manifest) && isObj(manifest.spec) && Array.isArray(manifest.spec.platforms) ? manifest.spec.platforms : [];
  const missing = new Set<string>();
  for (const platform of platforms) {
    const files = isObj(platform) ? platform.files : undefined;
    if (!Array.isArray(files)) continue; // no files: krew installs the whole archive
    const globs = files.filter(isObj).map((f) => globToRegExp(normalise(String(f.from))));
    for (const m of members) if (!globs.some((g) => g.test(m))) missing.add(m);
  }
  return [...missing];
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${body}$`);
}

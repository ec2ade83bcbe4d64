import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layer rule of the house style:
 * - libs never import apps;
 * - algorithm libs (every lib but infra and platform) import no framework or driver: only node
 *   builtins, zod, @stdlib math/distribution packages, other algorithm libs and infrastructure *ports* (never adapters); libs/ann may
 *   also use the hnswlib addons (hnswlib-node and the in-repo native/hnsw, @recsys/hnsw-native)
 *   and the posting-file I/O addon (native/spann-io, @recsys/spann-io); libs/sdim its SIMD kernels addon
 *   (native/sdim, @recsys/sdim-native, loaded optionally);
 * - libs/infra (ports and adapters) imports no web framework;
 * - an app never imports another app (apps/suite, which assembles them, excepted).
 */
export interface Violation {
  file: string;
  specifier: string;
  rule: string;
}

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const INFRA_LIBS = new Set(['infra', 'platform']);
// Pure computation packages an algorithm lib may use: schemas, and stdlib's math and distributions.
const PURE_PACKAGES = new Set(['zod']);
const PURE_SCOPES = ['@stdlib/'];
const LIB_EXTRA_PACKAGES: Record<string, Set<string>> = { ann: new Set(['hnswlib-node', '@recsys/hnsw-native', '@recsys/spann-io']), sdim: new Set(['@recsys/sdim-native']) };

export function importsOf(source: string): string[] {
  const stripped = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of stripped.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return out;
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Checks one file given its path relative to the repo root and its source. */
export function checkFile(relPath: string, source: string): Violation[] {
  const norm = relPath.split(sep).join('/');
  const [top, area] = norm.split('/');
  const violations: Violation[] = [];
  for (const spec of importsOf(source)) {
    const isRelative = spec.startsWith('.');
    const alias = /^@recsys\/([a-z-]+)(?:\/(.*))?$/.exec(spec);
    const aliasTarget =
      alias && alias[1] !== 'testing' && alias[1] !== 'hnsw-native' && alias[1] !== 'spann-io' && alias[1] !== 'sdim-native' ? `libs/${alias[1]}/src${alias[2] ? `/${alias[2]}` : ''}` : null;
    const target = isRelative ? join(dirname(norm), spec).split(sep).join('/') : aliasTarget;
    const [tTop, tArea] = target ? target.split('/') : [];
    if (top === 'libs') {
      if (tTop === 'apps') violations.push({ file: norm, specifier: spec, rule: 'libs never import apps' });
      if (!INFRA_LIBS.has(area)) {
        if (target) {
          if (tTop === 'libs' && INFRA_LIBS.has(tArea) && !/\.port$/.test(target)) {
            violations.push({ file: norm, specifier: spec, rule: `algorithm lib '${area}' may use infrastructure ports only, not adapters or wiring` });
          }
        } else if (!spec.startsWith('node:')) {
          const pkg = packageName(spec);
          if (!PURE_PACKAGES.has(pkg) && !PURE_SCOPES.some((s) => pkg.startsWith(s)) && !LIB_EXTRA_PACKAGES[area]?.has(pkg)) {
            violations.push({ file: norm, specifier: spec, rule: `algorithm lib '${area}' imports no framework or driver ('${pkg}')` });
          }
        }
      } else if (area === 'infra' && !target && /^(@nestjs\/|express$)/.test(spec)) {
        violations.push({ file: norm, specifier: spec, rule: 'libs/infra imports no web framework' });
      }
    }
    if (isRelative && tTop === 'libs' && !(top === 'libs' && tArea === area)) {
      violations.push({ file: norm, specifier: spec, rule: `import libs/${tArea} through its path alias @recsys/${tArea}, not a relative path` });
    }
    if (top === 'apps' && area !== 'suite' && tTop === 'apps' && tArea !== area) {
      violations.push({ file: norm, specifier: spec, rule: 'an app never imports another app' });
    }
  }
  return violations;
}

function walk(dir: string, out: string[]): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

export function checkRepo(root: string): Violation[] {
  const files = ['libs', 'apps', 'test', 'bench', 'scripts'].flatMap((d) => walk(join(root, d), []));
  return files.flatMap((f) => {
    const rel = relative(root, f);
    const found = checkFile(rel, readFileSync(f, 'utf8'));
    // Specs may use real adapters and test helpers; the layer rules are about shipped code. The alias rule holds everywhere.
    if (/\.(int-)?spec\.ts$/.test(rel) || /\.contract\.ts$/.test(rel) || !/^(libs|apps)\//.test(rel)) return found.filter((v) => v.rule.startsWith('import libs/'));
    return found;
  });
}

export function repoRoot(from = __dirname): string {
  let dir = resolve(from);
  while (dir !== dirname(dir)) {
    try {
      if (statSync(join(dir, 'package.json')).isFile() && statSync(join(dir, 'libs')).isDirectory()) return dir;
    } catch {
      /* keep walking up */
    }
    dir = dirname(dir);
  }
  throw new Error(`repository root not found above ${from}`);
}

if (require.main === module) {
  const violations = checkRepo(repoRoot());
  for (const v of violations) console.error(`${v.file}: imports '${v.specifier}': ${v.rule}`);
  console.log(violations.length ? `dependency rule: ${violations.length} violation(s)` : 'dependency rule: ok');
  process.exit(violations.length ? 1 : 0);
}

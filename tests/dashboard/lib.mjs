// Shared helpers of the dashboard's Node tests (not a test itself): building a small lake
// with the orderlake binary, starting `orderlake serve` on a free port, running the same
// SQL through `orderlake query`, launching Debian's Chromium through playwright-core.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

export const BINARY = process.env.ORDERLAKE_BINARY;
export const SOURCE = process.env.ORDERLAKE_SOURCE_DIR;
if (!BINARY || !SOURCE) {
  console.error('ORDERLAKE_BINARY and ORDERLAKE_SOURCE_DIR must be set (ctest sets them)');
  process.exit(2);
}

export function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `orderlake-${name}-`));
}

export function run(args, opts = {}) {
  const r = spawnSync(BINARY, args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300000, ...opts });
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`orderlake ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return r;
}

// generate + etl: N lines from `seed` into <dir>/in, published into <dir>/lake.
export function buildLake(dir, { count = 3000, seed = 7 } = {}) {
  const input = path.join(dir, 'in');
  const lake = path.join(dir, 'lake');
  addCommit(dir, { count, seed });
  return { input, lake };
}

// More lines into the same input directory, then an etl run: one new table version.
export function addCommit(dir, { count = 500, seed = 99 } = {}) {
  const input = path.join(dir, 'in');
  const lake = path.join(dir, 'lake');
  // A subdirectory per commit keeps file names apart; etl reads the input recursively or
  // not, so write at the top level with a distinct generator seed and a fresh clock second.
  run(['generate', '--count', String(count), '--seed', String(seed), '--start', '2010-12-01', '--days', '5', '--out', input]);
  run(['etl', '--input', input, '--lake', lake, '--no-progress']);
}

// Runs SQL through `orderlake query --format json`: the reference answer.
export function query(lake, sql) {
  const r = run(['query', '--lake', lake, '--format', 'json', sql]);
  return JSON.parse(r.stdout);
}

// Starts `orderlake serve` on a free port; resolves with {url, base, proc, stop()}.
export function serve(lake, extra = []) {
  return new Promise((resolve, reject) => {
    const proc = spawn(BINARY, ['serve', '--lake', lake, '--listen', '127.0.0.1:0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error('serve did not print its URL in 20 s: ' + err)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/dashboard at (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        const url = m[1];
        const base = url.replace(/\/(\?.*)?$/, '');
        resolve({ url, base, proc, stderr: () => err, stop: () => stopProc(proc) });
      }
    });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited (${code}): ${err}`)); });
  });
}

function stopProc(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve(proc.exitCode);
    proc.removeAllListeners('exit');
    proc.on('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
  });
}

// Chromium from Debian, driven by playwright-core from web/node_modules.
export async function launchBrowser(userDataDir) {
  const require = createRequire(path.join(SOURCE, 'web', 'package.json'));
  const { chromium } = require('playwright-core');
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
}

export function screenshotDir() {
  const dir = path.join(process.cwd(), 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// Numbers equal up to floating-point summation order (parallel sums differ in the last bits).
export function near(a, b, rel = 1e-9) {
  if (a === b) return true;
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
}

export function assertNear(assert, actual, expected, what) {
  assert.ok(near(actual, expected), `${what}: ${actual} != ${expected}`);
}

export function assertNearArrays(assert, actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; ++i) assertNear(assert, actual[i], expected[i], `${what}[${i}]`);
}

export async function getJson(url, opts = {}) {
  const res = await fetch(url, opts);
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, headers: res.headers, body };
}

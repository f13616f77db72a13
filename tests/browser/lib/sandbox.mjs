// Starts the real sandbox binary (simulated BeyondTrust appliance + Zendesk) for browser tests.
//
// `RSZ_SANDBOX_BIN` names the binary (`cargo xtask test` sets it; default: the debug build next
// to RSZ_ARTIFACTS' target dir, then target/debug/sandbox). The appliance runs over plain HTTP on
// loopback: the tests' Zendesk proxy (lib/zaf_proxy.mjs) resolves the appliance's public host
// name to it, the way Zendesk's servers would reach the real one over HTTPS.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export function sandboxBin() {
  const candidates = [
    process.env.RSZ_SANDBOX_BIN,
    process.env.RSZ_ARTIFACTS && join(dirname(resolve(process.env.RSZ_ARTIFACTS)), 'debug', 'sandbox'),
    process.env.CARGO_TARGET_DIR && join(process.env.CARGO_TARGET_DIR, 'debug', 'sandbox'),
    resolve('target/debug/sandbox'),
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no sandbox binary (build it: cargo build -p sandbox); looked at ${candidates.join(', ')}`);
  return found;
}

/** Starts `sandbox serve --plain-http`; resolves { info, control(path, init), close }. */
export async function startSandbox(extraArgs = []) {
  const child = spawn(sandboxBin(), ['serve', '--plain-http', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const lines = createInterface({ input: child.stdout });
  const info = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`sandbox did not start: ${stderr}`)), 20000);
    lines.once('line', (line) => { clearTimeout(timer); ok(JSON.parse(line)); });
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`sandbox exited ${code}: ${stderr}`)); });
  });
  lines.on('line', () => {});
  return {
    info,
    /** Calls the appliance's control API (`/_control/...` relative to appliance_control_url). */
    async control(path, init = {}) {
      const res = await fetch(`${info.appliance_control_url}${path}`, {
        ...init,
        headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
      });
      if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    },
    close: () => new Promise((ok) => {
      if (child.exitCode !== null) return ok();
      child.once('exit', () => ok());
      child.kill('SIGTERM');
    }),
  };
}

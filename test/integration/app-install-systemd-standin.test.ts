/**
 * STANDS IN FOR systemd: the installer's systemd-user path (electron/services/remote-installer.ts)
 * end to end through a real sshd on loopback, with `systemctl` and `journalctl` stand-ins first on the
 * SSH session's PATH, because systemd cannot run on the test machine (the app-ssh tests only ever take
 * the detached path here). The sshd of this file sets `SetEnv PATH=<stand-ins>:… HOME=<temp home>`, so
 * every command the installer runs over SSH finds the stand-ins, and the unit lands in a temp
 * ~/.config/systemd/user. The stand-in systemctl really does what the user manager would for the calls
 * the installer makes: daemon-reload, enable (WantedBy= symlink), start/restart (ExecStart= detached in
 * a clean environment, under a supervisor applying Restart=), stop (SIGTERM), is-active, show, cat;
 * the journalctl stand-in shows the unit's captured output.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstallProgress, RelayDeskApi, RemoteInstanceFields } from '../../electron/ipc-contract.ts';
import { createAppServices, type AppServices } from '../../electron/services/app-services.ts';
import { createInProcessApi } from '../../electron/services/ipc-dispatch.ts';
import { createMemoryStore } from '../../electron/services/key-value-store.ts';
import { DETACHED_PID_FILE, unitName } from '../../electron/services/remote-installer.ts';
import { execCommand } from '../../electron/services/remote-shell.ts';
import { PlaintextTestSecretBox } from '../../electron/services/secret-box.ts';
import { freePort } from '../support/free-port.ts';
import { RELAY_BUNDLE } from '../support/relay-process.ts';
import { startSshdServer, type SshdServer } from '../support/sshd-server.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { waitFor } from '../support/wait-for.ts';

const run = promisify(execFile);

/** STAND-IN FOR systemd's `systemctl --user` (see its header). */
const SYSTEMCTL_STANDIN = `#!/bin/sh
# STAND-IN FOR systemd's \`systemctl --user\` (tests only: systemd cannot run on the test machine). For
# the calling user it does what the user manager would: unit files from ~/.config/systemd/user,
# taken in by daemon-reload (or on first use); enable = the [Install] WantedBy= symlinks; start = the
# unit's ExecStart= as a detached process (own session, clean environment + Environment=, cwd = home,
# StandardOutput=/StandardError= with systemd's defaults: journal / inherit) under a supervisor that
# applies Restart=/RestartSec=; stop = SIGTERM (SIGKILL after 90 s); is-active/show/cat report it.
# State (main pid, supervisor pid, exit status, "journal", call log) lives in ~/.local/state/systemd-standin.
set -u
STATE="$HOME/.local/state/systemd-standin"
UNITS="$HOME/.config/systemd/user"
RUN="$STATE/run"

if [ "\${1:-}" = __supervise ]; then
  # The manager's side of one service: run it, record pid and exit status, restart per Restart=.
  shift; u=$1; restart=$2; sec=\${3%s}; shift 3
  while :; do
    "$@" &
    echo $! > "$RUN/$u.pid"
    wait $!
    rc=$?
    echo "$rc" > "$RUN/$u.result"
    [ -f "$RUN/$u.stopping" ] && exit 0
    case "$restart" in
      always) ;;
      on-failure) [ "$rc" -ne 0 ] || exit 0 ;;
      *) exit 0 ;;
    esac
    sleep "$sec"
    [ -f "$RUN/$u.stopping" ] && exit 0
  done
fi

mkdir -p "$STATE/loaded" "$RUN" "$STATE/journal"
echo "$*" >> "$STATE/calls.log"
die() { c=$1; shift; echo "$*" >&2; exit "$c"; }
[ "\${1:-}" = --user ] || die 1 "systemctl stand-in: only --user is supported (got: $*)"
shift
QUIET=0; PROPS=""; CMD=""; ARGS=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    -q|--quiet) QUIET=1 ;;
    --no-pager|--no-block|--no-ask-password) ;;
    -p|--property) shift; PROPS="$PROPS,$1" ;;
    --property=*) PROPS="$PROPS,\${1#--property=}" ;;
    -*) die 1 "systemctl stand-in: unsupported option $1" ;;
    *) if [ -z "$CMD" ]; then CMD=$1; else ARGS="$ARGS $1"; fi ;;
  esac
  shift
done

# Every value of KEY in [SECTION] of FILE, one a line.
values() { awk -v sec="[$1]" -v k="$2" '/^[ \\t]*\\[/ { on = ($1 == sec); next } on && index($0, k "=") == 1 { print substr($0, length(k) + 2) }' "$3"; }
value() { values "$@" | tail -n 1; }

# The loaded copy of a unit (loaded from disk on first use, like the manager does).
loaded() {
  if [ -f "$STATE/loaded/$1" ]; then
    cmp -s "$STATE/loaded/$1" "$UNITS/$1" || echo "Warning: The unit file, source configuration file or drop-ins of $1 changed on disk. Run 'systemctl --user daemon-reload' to reload units." >&2
    echo "$STATE/loaded/$1"
  elif [ -f "$UNITS/$1" ]; then
    cp "$UNITS/$1" "$STATE/loaded/$1" && echo "$STATE/loaded/$1"
  else
    return 1
  fi
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }
# A recorded pid counts only while it is still that process: pids are reused quickly on a busy host,
# and a stale one could name, say, an sshd session (systemd tracks processes by cgroup, not by pid).
is() { tr '\\000' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"; }
mainpid() { p=$(cat "$RUN/$1.pid" 2>/dev/null) && alive "$p" && is "$p" mailrelay && echo "$p"; }
superpid() { p=$(cat "$RUN/$1.supervisor" 2>/dev/null) && alive "$p" && is "$p" systemctl && echo "$p"; }
state() {
  if mainpid "$1" >/dev/null; then echo active
  elif superpid "$1" >/dev/null; then echo activating
  elif [ -s "$RUN/$1.result" ] && [ "$(cat "$RUN/$1.result")" != 0 ]; then echo failed
  else echo inactive
  fi
}
sink() {
  case "$1" in
    null) echo /dev/null ;;
    ""|journal|journal+console|kmsg|kmsg+console) echo "$STATE/journal/$2.log" ;;
    *) return 1 ;;
  esac
}
manager_env() {
  echo "HOME=$HOME"; echo "USER=$(id -un)"; echo "LOGNAME=$(id -un)"; echo "SHELL=/bin/sh"
  echo "PATH=/usr/local/bin:/usr/bin:/bin"
}

start_unit() {
  u=$1
  f=$(loaded "$u") || die 5 "Failed to start $u: Unit $u not found."
  case "$(state "$u")" in active|activating) return 0 ;; esac
  cmd=$(value Service ExecStart "$f")
  [ -n "$cmd" ] || die 1 "Failed to start $u: Unit $u has a bad unit file setting."
  wd=$(value Service WorkingDirectory "$f"); case "$wd" in ""|"~") wd=$HOME ;; esac
  o=$(sink "$(value Service StandardOutput "$f")" "$u") || die 1 "systemctl stand-in: unsupported StandardOutput="
  e=$(value Service StandardError "$f")
  case "$e" in ""|inherit) e=$o ;; *) e=$(sink "$e" "$u") || die 1 "systemctl stand-in: unsupported StandardError=" ;; esac
  envs="$(manager_env | tr '\\n' ' ')INVOCATION_ID=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \\n')"
  envs="$envs $(values Service Environment "$f" | tr '\\n' ' ')"
  restart=$(value Service Restart "$f"); sec=$(value Service RestartSec "$f")
  rm -f "$RUN/$u.pid" "$RUN/$u.result" "$RUN/$u.stopping"
  set -f
  # shellcheck disable=SC2086
  (cd "$wd" && exec env -i $envs setsid "$0" __supervise "$u" "\${restart:-no}" "\${sec:-0.1}" $cmd) </dev/null >>"$o" 2>>"$e" &
  set +f
  echo $! > "$RUN/$u.supervisor"
  i=0; while [ ! -s "$RUN/$u.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  [ -s "$RUN/$u.pid" ] || die 1 "Job for $u failed."
}

stop_unit() {
  u=$1
  [ -f "$STATE/loaded/$u" ] || [ -f "$UNITS/$u" ] || die 5 "Failed to stop $u: Unit $u not loaded."
  touch "$RUN/$u.stopping"
  m=$(mainpid "$u"); s=$(superpid "$u")
  [ -n "$m" ] && kill -TERM "$m" 2>/dev/null
  [ -n "$s" ] && kill -TERM "$s" 2>/dev/null
  i=0
  while alive "$m" || alive "$s"; do
    if [ $i -ge 900 ]; then kill -KILL "$m" "$s" 2>/dev/null; fi
    sleep 0.1; i=$((i+1))
  done
  rm -f "$RUN/$u.pid" "$RUN/$u.supervisor" "$RUN/$u.result" "$RUN/$u.stopping"
}

enable_unit() {
  [ -f "$UNITS/$1" ] || die 1 "Failed to enable unit: Unit file $1 does not exist."
  for t in $(values Install WantedBy "$UNITS/$1"); do
    mkdir -p "$UNITS/$t.wants"
    ln -sf "$UNITS/$1" "$UNITS/$t.wants/$1"
    echo "Created symlink $UNITS/$t.wants/$1 → $UNITS/$1." >&2
  done
}

show_unit() {
  u=$1; mp=$(mainpid "$u") || mp=0; fp=""; ls=not-found
  if [ -f "$UNITS/$u" ]; then fp="$UNITS/$u"; ls=loaded; fi
  for kv in "Id=$u" "LoadState=$ls" "ActiveState=$(state "$u")" "MainPID=$mp" "FragmentPath=$fp"; do
    case ",$PROPS," in ",,"|*",\${kv%%=*},"*) echo "$kv" ;; esac
  done
}

case "$CMD" in
  daemon-reload)
    rm -f "$STATE/loaded/"*
    for f in "$UNITS"/*.service; do [ -f "$f" ] && cp "$f" "$STATE/loaded/"; done
    exit 0 ;;
  show-environment) manager_env; exit 0 ;;
  start|stop|restart|enable|disable|is-active|show|cat)
    [ -n "$ARGS" ] || die 1 "Too few arguments."
    rc=0
    for u in $ARGS; do
      case "$CMD" in
        start) start_unit "$u" ;;
        stop) stop_unit "$u" ;;
        restart) stop_unit "$u"; start_unit "$u" ;;
        enable) enable_unit "$u" ;;
        disable) rm -f "$UNITS"/*.wants/"$u" ;;
        is-active) st=$(state "$u"); [ "$QUIET" = 1 ] || echo "$st"; [ "$st" = active ] || rc=3 ;;
        show) show_unit "$u" ;;
        cat) [ -f "$UNITS/$u" ] || die 1 "No files found for $u."; echo "# $UNITS/$u"; cat "$UNITS/$u" ;;
      esac
    done
    exit $rc ;;
  *) die 1 "systemctl stand-in: unsupported command \${CMD:-(none)}" ;;
esac
`;

/** STAND-IN FOR journalctl (see its header). */
const JOURNALCTL_STANDIN = `#!/bin/sh
# STAND-IN FOR journalctl (tests only): \`journalctl --user -u UNIT [-n N] [--no-pager] [-q] [-o cat]\` shows
# what the systemctl stand-in captured of the unit's output (its "journal").
set -u
[ "\${1:-}" = --user ] || { echo "journalctl stand-in: only --user is supported" >&2; exit 1; }
shift
u=""; n=10; quiet=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    -u) shift; u=$1 ;;
    -n) shift; n=$1 ;;
    --no-pager) ;;
    -q|--quiet) quiet=1 ;;
    -o) shift; [ "$1" = cat ] || { echo "journalctl stand-in: only -o cat" >&2; exit 1; } ;;
    *) echo "journalctl stand-in: unsupported argument $1" >&2; exit 1 ;;
  esac
  shift
done
f="$HOME/.local/state/systemd-standin/journal/$u.log"
if [ -s "$f" ]; then tail -n "$n" "$f"; elif [ "$quiet" = 0 ]; then echo "-- No entries --"; fi
`;

/**
 * STAND-IN FOR loginctl (tests only): `show-user U -p Linger --value` and `enable-linger U`, with the
 * linger state in a file; when $HOME/.local/state/systemd-standin/linger-denied exists, enabling is
 * refused as polkit would refuse an unprivileged user.
 */
const LOGINCTL_STANDIN = `#!/bin/sh
set -u
d="$HOME/.local/state/systemd-standin"; mkdir -p "$d"
echo "loginctl $*" >> "$d/loginctl-calls"
case "\${1:-}" in
  show-user) if [ -e "$d/linger" ]; then echo yes; else echo no; fi ;;
  enable-linger)
    if [ -e "$d/linger-denied" ]; then echo "Could not enable linger: Access denied" >&2; exit 1; fi
    : > "$d/linger" ;;
  *) echo "loginctl stand-in: unsupported command \${1:-}" >&2; exit 1 ;;
esac
`;

interface Harness {
  services: AppServices;
  api: RelayDeskApi;
}

function harness(dir: string): Harness {
  const services = createAppServices({
    store: createMemoryStore(),
    secrets: new PlaintextTestSecretBox(path.join(dir, 'secrets.json')),
    relayBundlePath: RELAY_BUNDLE,
    localDataDir: path.join(dir, 'local-relay'),
    nodeRuntime: { execPath: process.execPath },
    appVersion: '0.0.0-test',
    bundledRelayVersion: '0.1.0',
    sshAgent: undefined,
    knownHostsFiles: [],
    sshTiming: { backoff: { initialMs: 100, maxMs: 400 }, keepaliveIntervalMs: 2000 },
  });
  return { services, api: createInProcessApi(services) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A dead child of a non-reaping init stays a zombie: that is not running.
  return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

async function relayConfig(dataDir: string): Promise<number> {
  // SMTP on a free port; a relay host that refuses, so accepted mail stays in the queue.
  const smtpPort = await freePort();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    path.join(dataDir, 'config.json'),
    JSON.stringify({
      listeners: [{ name: 'smtp', host: '127.0.0.1', port: smtpPort, tls: 'none' }],
      delivery: { mode: 'relayHost', relayHost: { host: '127.0.0.1', port: await freePort(), security: 'none' } },
      queue: { retrySchedule: ['1h'] },
    }),
  );
  return smtpPort;
}

describe('systemd-user install path, with a systemctl STAND-IN for systemd (systemd cannot run here)', () => {
  let sshd: SshdServer;
  let tmp: TempDir;
  let h: Harness;
  let id: string;
  let home: string;
  let binDir: string;
  let dataDir: string;
  let smtpPort: number;
  let unit: string;
  const progress: InstallProgress[] = [];
  const unitsDir = (): string => path.join(home, '.config', 'systemd', 'user');
  const stateDir = (): string => path.join(home, '.local', 'state', 'systemd-standin');
  const calls = (): string[] => (existsSync(path.join(stateDir(), 'calls.log')) ? readFileSync(path.join(stateDir(), 'calls.log'), 'utf8').split('\n').filter(Boolean) : []);
  /** The stand-in's main pid of a unit, or 0. */
  const mainPid = (u: string): number => {
    const f = path.join(stateDir(), 'run', `${u}.pid`);
    return existsSync(f) ? Number(readFileSync(f, 'utf8')) : 0;
  };
  /** Run the stand-in here, as the SSH session would. */
  const systemctl = (...args: string[]): Promise<{ stdout: string; code: number }> =>
    run(path.join(binDir, 'systemctl'), ['--user', ...args], { env: { ...process.env, HOME: home, PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin` } }).then(
      (r) => ({ stdout: r.stdout, code: 0 }),
      (e: { stdout: string; code: number }) => ({ stdout: e.stdout, code: e.code }),
    );
  const relayStatus = async (): Promise<{ pid: number; version: string; dataDir: string }> => {
    const r = await h.api.controlCall({ instanceId: id, method: 'status' });
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };

  beforeAll(async () => {
    tmp = makeTempDir('app-install-systemd-standin-');
    home = path.join(tmp.path, 'home');
    binDir = path.join(tmp.path, 'standin-bin');
    mkdirSync(home, { recursive: true });
    mkdirSync(binDir, { recursive: true });
    writeFileSync(path.join(binDir, 'systemctl'), SYSTEMCTL_STANDIN);
    writeFileSync(path.join(binDir, 'journalctl'), JOURNALCTL_STANDIN);
    writeFileSync(path.join(binDir, 'loginctl'), LOGINCTL_STANDIN);
    chmodSync(path.join(binDir, 'systemctl'), 0o755);
    chmodSync(path.join(binDir, 'journalctl'), 0o755);
    chmodSync(path.join(binDir, 'loginctl'), 0o755);
    sshd = await startSshdServer({ extraConfig: [`SetEnv PATH=${binDir}:/usr/local/bin:/usr/bin:/bin HOME=${home}`] });
    dataDir = path.join(tmp.path, 'data');
    unit = unitName(dataDir);
    smtpPort = await relayConfig(dataDir);
    h = harness(tmp.path);
    h.api.onInstallProgress((p) => progress.push(p));
    const fields: RemoteInstanceFields = {
      name: 'systemd-standin',
      host: sshd.host,
      port: sshd.port,
      username: os.userInfo().username,
      auth: { method: 'key', keyPath: sshd.clientKey },
      dataDir,
      installDir: path.join(tmp.path, 'lib'),
      nodePath: 'node',
    };
    const added = await h.api.addInstance({ instance: fields });
    if (!added.ok) throw new Error(added.error.message);
    id = added.value.id;
    const first = await h.api.connect({ instanceId: id });
    if (!first.ok) throw new Error(first.error.message);
    const trusted = await h.api.trustHostKey({ instanceId: id, fingerprint: first.value.hostKey!.presented.fingerprint });
    if (!trusted.ok) throw new Error(trusted.error.message);
    await waitFor('relay-not-installed', () => h.services.connection(id).state.status === 'relay-not-installed');
  });

  afterAll(async () => {
    try {
      // Stop every unit the stand-in still runs (also a failing one in its restart loop).
      const runDir = path.join(stateDir(), 'run');
      if (existsSync(runDir)) {
        const units = new Set(readdirSync(runDir).map((f) => f.replace(/\.(pid|supervisor|result|stopping)$/, '')));
        for (const u of units) await systemctl('stop', u);
      }
    } finally {
      await h?.services.shutdown();
      await sshd?.dispose();
      tmp?.remove();
    }
  });

  it('sees systemctl --user working over SSH, so it installs as a systemd user unit with the right unit file', async () => {
    const r = await h.api.installRelay({ instanceId: id });
    if (!r.ok) throw new Error(`${r.error.message}\n${JSON.stringify(progress, null, 1)}\n${calls().join('\n')}`);
    expect(r.value).toMatchObject({ service: 'systemd-user', relayVersion: '0.1.0', nodeVersion: process.version, dataDir });
    expect(progress.find((p) => p.step === 'start' && p.status === 'done')?.message).toBe('started as a systemd user service');
    // Lingering was off and the user may enable it: the installer did, so the relay outlives logouts.
    expect(r.value.warnings).toEqual([]);
    expect(readFileSync(path.join(home, '.local/state/systemd-standin/loginctl-calls'), 'utf8')).toMatch(/^loginctl show-user \S+ -p Linger --value\nloginctl enable-linger \S+\n$/);
    expect(existsSync(path.join(dataDir, DETACHED_PID_FILE))).toBe(false);

    // The unit file in the (temp) ~/.config/systemd/user.
    const text = readFileSync(path.join(unitsDir(), unit), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(text)?.[1] ?? '';
    const [nodeAbs, ...rest] = execStart.split(' ');
    expect(path.isAbsolute(nodeAbs!)).toBe(true);
    expect((await run(nodeAbs!, ['--version'])).stdout.trim()).toBe(process.version);
    expect(rest).toEqual([r.value.bundlePath, 'serve', '--data-dir', dataDir]);
    expect(text).toMatch(/^\[Service\]$/m);
    expect(text).toMatch(/^Restart=on-failure$/m);
    expect(text).toMatch(/^RestartSec=5$/m);
    // stderr must reach the journal (deathReason reads it); StandardError='s default follows stdout.
    expect(text).toMatch(/^StandardError=journal$/m);
    expect(text).toMatch(/^\[Install\]\nWantedBy=default\.target$/m);
    expect(text).toContain(`Description=mailrelay (Relay Desk) for ${dataDir}`);

    // What the installer asked of systemctl, in order; enable made the WantedBy= link.
    // (stop-old: is there a unit to stop; start: daemon-reload, enable, restart; verify: is-active polls.)
    expect(calls().slice(0, 5)).toEqual([`--user cat ${unit}`, '--user show-environment', '--user daemon-reload', `--user enable ${unit}`, `--user restart ${unit}`]);
    expect(calls().slice(5).every((c) => c === `--user is-active --quiet ${unit}`)).toBe(true);
    const link = path.join(unitsDir(), 'default.target.wants', unit);
    expect(lstatSync(link).isSymbolicLink() && readlinkSync(link)).toBe(path.join(unitsDir(), unit));

    // The relay that answers is the unit's main process, started from ExecStart in the manager's
    // clean environment (not the SSH session's).
    const status = await relayStatus();
    expect(status.pid).toBe(mainPid(unit));
    expect(readFileSync(`/proc/${status.pid}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual([nodeAbs, ...rest]);
    const env = readFileSync(`/proc/${status.pid}/environ`, 'utf8').split('\0');
    expect(env).toContain(`HOME=${home}`);
    expect(env.some((e) => e.startsWith('INVOCATION_ID='))).toBe(true);
    expect(env.some((e) => e.startsWith('SSH_CONNECTION='))).toBe(false);
    expect(await systemctl('is-active', unit)).toEqual({ stdout: 'active\n', code: 0 });
  });

  it('routes control calls to the relay the unit runs', async () => {
    expect(await relayStatus()).toMatchObject({ dataDir, version: '0.1.0' });
    expect(await h.api.controlCall({ instanceId: id, method: 'users.add', params: { name: 'printer', password: 'pr1nter-pass' } })).toMatchObject({ ok: true });
    const users = await h.api.controlCall({ instanceId: id, method: 'users.list' });
    expect(users.ok && JSON.stringify(users.value)).toContain('printer');
  });

  it('upgrades: restarts the unit (a new main pid) and keeps a queued message', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
    const sent = await transport.sendMail({ from: 'app@far.example', to: 'someone@far.example', subject: 'kept across upgrade', text: 'hello' });
    transport.close();
    expect(sent.response).toMatch(/^250/);
    const before = await h.api.controlCall({ instanceId: id, method: 'queue.list', params: { state: 'all' } });
    if (!before.ok) throw new Error(before.error.message);
    expect(before.value.items).toHaveLength(1);
    const oldPid = (await relayStatus()).pid;
    const mark = calls().length;

    const r = await h.api.upgradeRelay({ instanceId: id });
    if (!r.ok) throw new Error(`${r.error.message}\n${calls().join('\n')}`);
    expect(r.value.service).toBe('systemd-user');
    expect(alive(oldPid)).toBe(false);
    const newPid = (await relayStatus()).pid;
    expect(newPid).not.toBe(oldPid);
    expect(newPid).toBe(mainPid(unit));
    expect(calls().slice(mark)).toEqual(expect.arrayContaining([`--user cat ${unit}`, `--user stop ${unit}`, '--user daemon-reload', `--user restart ${unit}`]));
    const after = await h.api.controlCall({ instanceId: id, method: 'queue.list', params: { state: 'all' } });
    expect(after.ok && after.value.items.map((i) => i.id)).toEqual(before.value.items.map((i) => i.id));
  });

  it('says what to run on the host when lingering is off and the user may not turn it on', async () => {
    const standin = path.join(home, '.local/state/systemd-standin');
    rmSync(path.join(standin, 'linger'), { force: true });
    writeFileSync(path.join(standin, 'linger-denied'), '');
    try {
      const r = await h.api.upgradeRelay({ instanceId: id });
      if (!r.ok) throw new Error(r.error.message);
      expect(r.value.warnings).toHaveLength(1);
      expect(r.value.warnings[0]).toMatch(/^systemd lingering is off for \S+: the relay stops when .* Run "sudo loginctl enable-linger \S+" on the host/);
      // …and as a catalog key, so the app can say it in German.
      expect(r.value.warningSays?.[0]).toEqual({ key: 'errors.install.lingerOff', params: { user: expect.any(String) } });
    } finally {
      rmSync(path.join(standin, 'linger-denied'), { force: true });
    }
  });

  it('upgrades a running relay that does not answer on control by stopping its unit', async () => {
    const oldPid = (await relayStatus()).pid;
    // Its control socket gone: the app cannot reach it, only `systemctl --user stop` can stop it.
    rmSync(path.join(dataDir, 'control.sock'));
    await sshd.killSessions();
    await waitFor('the relay to be unreachable', () => h.services.connection(id).state.status === 'relay-stopped', 10_000);
    expect(alive(oldPid)).toBe(true);

    const mark = calls().length;
    const r = await h.api.upgradeRelay({ instanceId: id });
    if (!r.ok) throw new Error(`${r.error.message}\n${calls().join('\n')}`);
    expect(calls().slice(mark)).toContain(`--user stop ${unit}`);
    expect(alive(oldPid)).toBe(false);
    expect((await relayStatus()).pid).toBe(mainPid(unit));
  });

  it('stops through systemctl --user stop over SSH (SIGTERM): the unit is inactive and the relay gone', async () => {
    const pid = (await relayStatus()).pid;
    const client = h.services.connection(id).client!;
    const stop = await execCommand(client, `systemctl --user stop ${unit}`);
    expect(stop).toMatchObject({ code: 0, stderr: '' });
    expect(alive(pid)).toBe(false);
    const active = await execCommand(client, `systemctl --user is-active ${unit}`);
    expect(active).toMatchObject({ code: 3, stdout: 'inactive\n' });
    await waitFor('the app to see the relay stopped', () => h.services.connection(id).state.status !== 'connected', 10_000);
  });

  it('reports why a relay started as a unit died right away (its stderr through journalctl)', async () => {
    const badData = path.join(tmp.path, 'bad-data');
    mkdirSync(badData, { recursive: true });
    writeFileSync(path.join(badData, 'config.json'), JSON.stringify({ listeners: [{ name: 'x', host: '127.0.0.1', port: 'nope' }] }));
    const added = await h.api.addInstance({
      instance: {
        name: 'systemd-standin-bad',
        host: sshd.host,
        port: sshd.port,
        username: os.userInfo().username,
        auth: { method: 'key', keyPath: sshd.clientKey },
        dataDir: badData,
        installDir: path.join(tmp.path, 'lib-bad'),
        nodePath: 'node',
      },
    });
    if (!added.ok) throw new Error(added.error.message);
    const bad = added.value.id;
    const first = await h.api.connect({ instanceId: bad });
    if (!first.ok) throw new Error(first.error.message);
    expect(await h.api.trustHostKey({ instanceId: bad, fingerprint: first.value.hostKey!.presented.fingerprint })).toMatchObject({ ok: true });
    await waitFor('relay-not-installed', () => h.services.connection(bad).state.status === 'relay-not-installed');

    const r = await h.api.installRelay({ instanceId: bad });
    expect(r).toMatchObject({ ok: false, error: { code: 'INSTALL_FAILED' } });
    expect(!r.ok && r.error.message).toMatch(/the relay stopped right after starting: bad config: .*listeners\[0\]\.port/);
    expect(calls()).toContain(`--user restart ${unitName(badData)}`);
    // Restart=on-failure: the stand-in's manager keeps retrying it, as systemd would; stop it.
    expect((await systemctl('stop', unitName(badData))).code).toBe(0);
  });
});

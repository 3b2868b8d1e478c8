// signsim for Node: start the simulator this package carries (or reach a running one) and
// the helpers every integration test otherwise writes itself: a tenant of its own per test,
// the OTP or link last "sent" to a recipient, the tenant's clock, a webhook receiver inside
// the simulator and a wait for its deliveries, the CA's certificate and a sample PDF.
//
// Plain global `fetch` underneath; no runtime dependencies.
"use strict";

const { spawn } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");

const EXE = process.platform === "win32" ? "signsim.exe" : "signsim";

/** Where the binary this package carries is. Throws a clear error when it is missing. */
function binaryPath() {
  const binary = path.join(__dirname, "vendor", EXE);
  if (!fs.existsSync(binary)) {
    throw new Error(
      `signsim: the package has no binary at ${binary}; it was packed without ` +
        "`cargo build --release` (see npm/scripts/vendor.js)"
    );
  }
  // A tarball unpacked by a tool that drops modes still runs.
  if (process.platform !== "win32") {
    try {
      fs.accessSync(binary, fs.constants.X_OK);
    } catch {
      fs.chmodSync(binary, 0o755);
    }
  }
  return binary;
}

/** A name no other run will pick: `prefix-` and 12 random hex digits. */
function uniqueName(prefix) {
  return `${prefix}-${crypto.randomBytes(6).toString("hex")}`;
}

/** An admin call answered with something else than what the helper needs. */
class SignsimError extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = "SignsimError";
    this.status = status;
    this.body = body;
  }
}

/** Seconds, bounded to what the server's `wait` accepts (0-60). */
function waitSeconds(seconds) {
  const n = Number(seconds);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`wait must be >= 0 seconds, not ${seconds}`);
  return Math.min(n, 60);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The simulator at `url`: the admin calls the helpers are made of. */
class Signsim {
  constructor(url, { adminToken, stop } = {}) {
    this.url = url.replace(/\/+$/, "");
    this._adminToken = adminToken;
    this._stop = stop || (async () => {});
  }

  /** Stops the simulator `start()` started (nothing for one `connect()` reached). */
  stop() {
    return this._stop();
  }

  /** The full URL of `path` (`/qitech/sign/envelope`) on this simulator. */
  at(pathname) {
    return this.url + (pathname.startsWith("/") ? pathname : `/${pathname}`);
  }

  /**
   * An admin call: `GET /_signsim/...` with the admin token when there is one; answers the
   * Response, or throws a SignsimError for a status outside `ok` (default 2xx).
   */
  async admin(method, pathname, { query, json, ok } = {}) {
    const url = new URL(this.at(`/_signsim${pathname}`));
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const headers = {};
    if (this._adminToken) headers.authorization = `Bearer ${this._adminToken}`;
    let body;
    if (json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(json);
    }
    const response = await fetch(url, { method, headers, body });
    const accepted = ok ? ok(response.status) : response.ok;
    if (!accepted) {
      const text = await response.text().catch(() => "");
      throw new SignsimError(
        `signsim: ${method} ${url.pathname}${url.search} answered ${response.status}: ${text}`,
        response.status,
        text
      );
    }
    return response;
  }

  /** `GET /_signsim/health`. */
  async health() {
    return (await this.admin("GET", "/health")).json();
  }

  /** The root certificate every signature chains to, PEM. */
  async caPem() {
    return (await this.admin("GET", "/ca.pem")).text();
  }

  /** A valid PDF to upload (`pages`: 1-50, default 1). */
  async samplePdf({ pages } = {}) {
    const response = await this.admin("GET", "/samples/document.pdf", { query: { pages } });
    return Buffer.from(await response.arrayBuffer());
  }

  /** A tenant of its own: `name` is used as every provider's credential or tenant header. */
  tenant(name = uniqueName("node")) {
    return new Tenant(this, name);
  }

  /** A receiver inside the simulator, under a unique name (or the one given). */
  capture(name = uniqueName("node")) {
    return new Capture(this, name);
  }

  /** Messages "sent" (`provider`, `tenant`, `to`, `channel` filters), oldest first. */
  async outbox(filters = {}) {
    return (await this.admin("GET", "/outbox", { query: filters })).json();
  }

  /**
   * Webhook delivery attempts (`provider`, `tenant`, `resource` filters); with `wait`
   * (seconds, up to 60), waits up to that long for at least one.
   */
  async webhooks(filters = {}) {
    const { wait, ...rest } = filters;
    const query = { ...rest };
    if (wait !== undefined) query.wait = waitSeconds(wait);
    return (await this.admin("GET", "/webhooks", { query })).json();
  }
}

/** One tenant: the same name in every provider, its own outbox, clock and state. */
class Tenant {
  constructor(sim, name) {
    this.sim = sim;
    this.name = name;
  }

  /** What this tenant "sent" (`provider`, `to`, `channel` filters), oldest first. */
  outbox(filters = {}) {
    return this.sim.outbox({ ...filters, tenant: this.name });
  }

  /** The newest message sent to `to` (and `provider`, `channel`); throws when there is none. */
  async lastMessage(to, filters = {}) {
    const query = { ...filters };
    if (to !== undefined && to !== null) query.to = to;
    const messages = await this.outbox(query);
    if (messages.length === 0) {
      throw new SignsimError(
        `signsim: tenant ${this.name} sent nothing matching ${JSON.stringify(query)}`,
        404,
        "[]"
      );
    }
    return messages[messages.length - 1];
  }

  /** The OTP last sent to `to` (a phone or e-mail; undefined: any recipient). */
  async lastOtp(to, filters = {}) {
    return this._member("otp", await this.lastMessage(to, filters));
  }

  /** The link last sent to `to` (a signing, video-ID or biometric link). */
  async lastLink(to, filters = {}) {
    return this._member("link", await this.lastMessage(to, filters));
  }

  _member(member, message) {
    if (message[member] === undefined || message[member] === null) {
      throw new SignsimError(
        `signsim: the last message to ${message.to} has no ${member}: ${message.text}`,
        404,
        JSON.stringify(message)
      );
    }
    return message[member];
  }

  /** Moves this tenant's clock forward (in every provider, or `provider`'s); due timers fire. */
  async advance(seconds, { provider } = {}) {
    const json = { seconds, tenant: this.name };
    if (provider) json.provider = provider;
    return (await this.sim.admin("POST", "/clock/advance", { json })).json();
  }

  /** This tenant's clock: `{ now, offset_seconds }`. */
  async clock({ provider } = {}) {
    return (await this.sim.admin("GET", "/clock", { query: { tenant: this.name, provider } })).json();
  }

  /** Forgets this tenant's state in every provider (or `provider`'s) and puts its clock back. */
  async reset({ provider } = {}) {
    const json = { tenant: this.name };
    if (provider) json.provider = provider;
    return (await this.sim.admin("POST", "/reset", { json })).json();
  }

  /** This tenant's webhook attempts (`provider`, `resource`, `wait` as Signsim.webhooks). */
  webhooks(filters = {}) {
    return this.sim.webhooks({ ...filters, tenant: this.name });
  }
}

/** A receiver inside the simulator: `url` records whatever reaches it. */
class Capture {
  constructor(sim, name) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) {
      throw new RangeError(`a capture name is 1-100 of [A-Za-z0-9._-], not ${JSON.stringify(name)}`);
    }
    this.sim = sim;
    this.name = name;
    /** Give this to a provider as its webhook, callback or report URL. */
    this.url = sim.at(`/_signsim/capture/${name}`);
  }

  /** The URL with `?status=CODE` (every request answered so) or `?fail_first=N`. */
  failing({ status, failFirst } = {}) {
    const url = new URL(this.url);
    if (status !== undefined) url.searchParams.set("status", String(status));
    if (failFirst !== undefined) url.searchParams.set("fail_first", String(failFirst));
    return url.toString();
  }

  /** What reached it so far, oldest first; `wait` seconds (<= 60) for the first one. */
  async requests({ wait } = {}) {
    const query = wait === undefined ? {} : { wait: waitSeconds(wait) };
    return (await this.sim.admin("GET", `/captures/${this.name}`, { query })).json();
  }

  /**
   * Waits until `count` requests (default 1) reached it, up to `timeout` seconds (default
   * 10); answers them all, or throws with what did arrive.
   */
  async waitFor({ count = 1, timeout = 10 } = {}) {
    const deadline = Date.now() + waitSeconds(timeout) * 1000;
    for (;;) {
      const left = Math.max(0, (deadline - Date.now()) / 1000);
      const seen = await this.requests({ wait: left });
      if (seen.length >= count) return seen;
      if (Date.now() >= deadline) {
        throw new SignsimError(
          `signsim: ${seen.length} of ${count} requests reached capture ${this.name} in ${timeout} s`,
          408,
          JSON.stringify(seen)
        );
      }
      // The server waits only for the first one; poll for the rest.
      if (seen.length > 0) await sleep(Math.min(100, deadline - Date.now()));
    }
  }

  /** The first request that reaches it (waiting up to `timeout` seconds, default 10). */
  async next({ timeout = 10 } = {}) {
    return (await this.waitFor({ count: 1, timeout }))[0];
  }

  /** Forgets what reached it. */
  async clear() {
    await this.sim.admin("DELETE", `/captures/${this.name}`);
  }
}

/** A simulator already running at `url` (a service container): `stop()` leaves it running. */
function connect(url, { adminToken } = {}) {
  return new Signsim(url, { adminToken });
}

/**
 * Starts the simulator on a free port and resolves once it listens, to a Signsim whose
 * `url` is its address and whose `stop()` ends it.
 *
 * With `url` (or SIGNSIM_URL set), reaches that simulator instead of starting one.
 */
function start(options = {}) {
  const url = options.url || process.env.SIGNSIM_URL;
  if (url) return Promise.resolve(connect(url, options));
  const binary = options.bin || process.env.SIGNSIM_BIN || binaryPath();
  const args = ["serve", "--port", "0", ...(options.args || [])];
  const timeout = options.timeout === undefined ? 30000 : options.timeout;
  const child = spawn(binary, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...(options.env || {}) },
  });

  // Its log goes to stderr: read it always (a full pipe would stall the simulator), keep the
  // tail for the error message of a start that fails, or pass it on with `log: true`.
  let stderrTail = "";
  child.stderr.on("data", (chunk) => {
    if (options.log) process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });

  // A test run that ends without stop() does not leave the simulator behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise((resolve) => child.once("exit", resolve));

  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10000);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      lines.close();
      stop().finally(() =>
        reject(new Error(`signsim: ${why}${stderrTail ? `\n${stderrTail.trimEnd()}` : ""}`))
      );
    };
    const timer = setTimeout(() => fail(`did not announce its address within ${timeout} ms`), timeout);
    const lines = readline.createInterface({ input: child.stdout });
    // The first line is `signsim http://127.0.0.1:PORT`, printed once it listens.
    lines.once("line", (line) => {
      const found = /(https?:\/\/\S+)/.exec(line);
      if (!found) return fail(`unexpected first line: ${line}`);
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Keep reading stdout (and dropping it) so it never fills.
      child.stdout.resume();
      resolve(new Signsim(found[1], { adminToken: options.adminToken, stop }));
    });
    child.once("error", (error) => fail(`cannot run ${binary}: ${error.message}`));
    child.once("exit", (code, signal) =>
      fail(`exited (${signal || `code ${code}`}) before it listened`)
    );
  });
}

module.exports = { start, connect, binaryPath, uniqueName, Signsim, Tenant, Capture, SignsimError };

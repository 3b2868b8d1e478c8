// Types of the `signsim` package (index.js; index.mjs exports the same names).

/** A provider's slug, as the admin API names it. */
export type Provider = "uanataca" | "signal" | "qitech" | "mensatek" | "identiasign" | (string & {});

export interface StartOptions {
  /** Reach the simulator at this URL instead of starting one (default: $SIGNSIM_URL). */
  url?: string;
  /** The binary to run (default: $SIGNSIM_BIN, else the one this package carries). */
  bin?: string;
  /** More `signsim serve` arguments, e.g. `["--seed", "1"]`. */
  args?: string[];
  /** More environment variables for the simulator. */
  env?: Record<string, string>;
  /** Milliseconds to wait for it to listen (default 30000). */
  timeout?: number;
  /** Pass the simulator's log (stderr) on to this process's stderr. */
  log?: boolean;
  /** The admin token (`--admin-token`) the admin calls send. */
  adminToken?: string;
}

/** A message the simulator "sent" (GET /_signsim/outbox). */
export interface Message {
  id: string;
  provider: string;
  channel: "sms" | "email" | "whatsapp";
  to: string;
  text: string;
  otp?: string;
  link?: string;
  at: string;
  [member: string]: unknown;
}

export interface OutboxFilters {
  provider?: Provider;
  to?: string;
  channel?: "sms" | "email" | "whatsapp";
}

export interface WebhookFilters {
  provider?: Provider;
  tenant?: string;
  /** The resource (envelope, request, process...) the attempts are about. */
  resource?: string;
  /** Seconds (<= 60) to wait for at least one attempt. */
  wait?: number;
}

/** A request a capture received (GET /_signsim/captures/{name}). */
export interface CapturedRequest {
  method: string;
  path: string;
  /** The raw query string, or null. */
  query: string | null;
  /** Lower-case names to values. */
  headers: Record<string, string>;
  /** The body as text, or base64 when `body_encoding` is "base64". */
  body: string;
  body_encoding?: "base64";
  /** When it arrived (real time, RFC 3339). */
  at: string;
}

export interface Clock {
  now: string;
  offset_seconds: number;
}

/** An admin call answered with something else than the helper needs. */
export class SignsimError extends Error {
  status: number;
  body: string;
}

/** The simulator at `url`. */
export class Signsim {
  constructor(url: string, options?: { adminToken?: string; stop?: () => Promise<void> });
  /** Its base URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  /** Stops the simulator start() started; leaves one connect() reached running. */
  stop(): Promise<void>;
  /** The full URL of a path on it: `sim.at("/qitech/sign/envelope")`. */
  at(path: string): string;
  /** Any `/_signsim` call (path after `/_signsim`), with the admin token; throws outside 2xx. */
  admin(
    method: string,
    path: string,
    options?: { query?: Record<string, unknown>; json?: unknown; ok?: (status: number) => boolean }
  ): Promise<Response>;
  health(): Promise<{ status: string; [member: string]: unknown }>;
  /** The root certificate every signature chains to (PEM). */
  caPem(): Promise<string>;
  /** A valid PDF to upload (`pages` 1-50, default 1). */
  samplePdf(options?: { pages?: number }): Promise<Buffer>;
  /** A tenant of its own (a unique name unless one is given). */
  tenant(name?: string): Tenant;
  /** A receiver inside the simulator (a unique name unless one is given). */
  capture(name?: string): Capture;
  outbox(filters?: OutboxFilters & { tenant?: string }): Promise<Message[]>;
  webhooks(filters?: WebhookFilters): Promise<Record<string, unknown>[]>;
}

/**
 * One tenant: `name` is the Uanataca `X-Signsim-Tenant` header, the QI Tech API key, the
 * IdentiaSign username, the Signal token or login and the Mensatek API user.
 */
export class Tenant {
  readonly sim: Signsim;
  readonly name: string;
  outbox(filters?: OutboxFilters): Promise<Message[]>;
  /** The newest message to `to` (any recipient when undefined); throws when none. */
  lastMessage(to?: string | null, filters?: OutboxFilters): Promise<Message>;
  /** The OTP last sent to `to`. */
  lastOtp(to?: string | null, filters?: OutboxFilters): Promise<string>;
  /** The link last sent to `to`. */
  lastLink(to?: string | null, filters?: OutboxFilters): Promise<string>;
  /** Moves this tenant's clock forward; timers due in the span fire in order. */
  advance(seconds: number, options?: { provider?: Provider }): Promise<Clock>;
  clock(options?: { provider?: Provider }): Promise<Clock>;
  /** Forgets this tenant's state (every provider, or one) and puts its clock back. */
  reset(options?: { provider?: Provider }): Promise<unknown>;
  webhooks(filters?: Omit<WebhookFilters, "tenant">): Promise<Record<string, unknown>[]>;
}

/** A receiver inside the simulator (`/_signsim/capture/{name}`). */
export class Capture {
  readonly sim: Signsim;
  readonly name: string;
  /** The URL to give a provider as webhook, callback or report URL. */
  readonly url: string;
  /** The URL answering `status` to every request, or 500 to the first `failFirst`. */
  failing(options: { status?: number; failFirst?: number }): string;
  /** What reached it, oldest first; `wait` seconds (<= 60) for the first one. */
  requests(options?: { wait?: number }): Promise<CapturedRequest[]>;
  /** Waits for `count` (default 1) requests, up to `timeout` s (default 10); throws on time out. */
  waitFor(options?: { count?: number; timeout?: number }): Promise<CapturedRequest[]>;
  /** The first request to reach it (waits up to `timeout` s, default 10). */
  next(options?: { timeout?: number }): Promise<CapturedRequest>;
  clear(): Promise<void>;
}

/** Starts the simulator on a free port (or reaches `url` / $SIGNSIM_URL). */
export function start(options?: StartOptions): Promise<Signsim>;
/** A simulator already running at `url`. */
export function connect(url: string, options?: { adminToken?: string }): Signsim;
/** The path of the binary this package carries. */
export function binaryPath(): string;
/** `prefix-` and 12 random hex digits. */
export function uniqueName(prefix: string): string;

// An app's integration tests against signsim, with Vitest and the `signsim` npm package.
//
//   npm install ./signsim-0.1.0.tgz vitest && npx vitest run
//
// `start()` runs the simulator the package carries on a free port (SIGNSIM_URL=... reaches a
// running one instead, a service container's). Each test works in a tenant of its own: one
// unique name, used as its Uanataca `X-Signsim-Tenant` and as its QI Tech API key, reset
// after the test, so runs that share an instance never meet. ci/npm-package.sh runs this
// file from the installed tarball.
import { createHmac } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { start } from "signsim";

const UANATACA_TOKEN = "fd6a21e6fb7d43b9893a520d67d6ff60"; // the demo token every request accepts

let sim;
let tenant;

beforeAll(async () => {
  sim = await start();
});
afterAll(async () => {
  await sim?.stop();
});
beforeEach(() => {
  tenant = sim.tenant();
});
afterEach(async () => {
  await tenant.reset();
});

/** Skips the test when this simulator has no such call yet (answers 404). */
async function orSkip(ctx, call) {
  try {
    return await call();
  } catch (error) {
    if (error.status === 404) ctx.skip();
    throw error;
  }
}

test("the simulator answers its health check", async () => {
  expect((await sim.health()).status).toBe("ok");
});

test("Uanataca: a request signed with the OTP sent by SMS gives a signed PDF", async () => {
  const api = sim.at("/uanataca/api/v1");
  const headers = { "X-Signsim-Tenant": tenant.name }; // Uanataca has no credentials
  const phone = "+34600123456";
  const created = await fetch(`${api}/request`, {
    method: "POST",
    headers,
    body: new URLSearchParams({
      token: UANATACA_TOKEN,
      given_name: "Ana",
      surname_1: "Vitest",
      email: "ana@example.com",
      mobile_phone_number: phone,
    }),
  });
  expect(created.status).toBe(201);
  const pk = (await created.json()).details;

  // The contract the request comes with (any PDF would do: sim.samplePdf()).
  const contract = await (await fetch(`${api}/document/${pk}/contract`, { headers })).blob();
  const form = new FormData();
  form.append("file", new Blob([contract], { type: "application/pdf" }), "contract.pdf");
  const uploaded = await fetch(`${api}/document/${pk}`, { method: "POST", headers, body: form });
  expect(uploaded.status).toBe(200);
  const uid = (await uploaded.json()).details;

  expect((await fetch(`${api}/otp/${pk}`, { method: "POST", headers })).status).toBe(200);
  const otp = await tenant.lastOtp(phone, { provider: "uanataca" });
  const signed = await fetch(`${api}/sign/${pk}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ secret: otp }),
  });
  expect(signed.status).toBe(200);

  const pdf = Buffer.from(await (await fetch(`${api}/document/${pk}/signed/${uid}`, { headers })).arrayBuffer());
  expect(pdf.subarray(0, 4).toString()).toBe("%PDF");
  expect(pdf.includes("/ByteRange")).toBe(true);
});

test("Uanataca: a wrong OTP is refused in the provider's shape", async () => {
  const api = sim.at("/uanataca/api/v1");
  const headers = { "X-Signsim-Tenant": tenant.name };
  const created = await fetch(`${api}/request`, {
    method: "POST",
    headers,
    body: new URLSearchParams({
      token: UANATACA_TOKEN,
      given_name: "Ana",
      surname_1: "Vitest",
      email: "ana@example.com",
      mobile_phone_number: "+34600123457",
    }),
  });
  const pk = (await created.json()).details;
  const refused = await fetch(`${api}/sign/${pk}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ secret: "000000" }),
  });
  expect(refused.status).toBeGreaterThanOrEqual(400);
  expect(refused.status).toBeLessThan(500);
  expect(await refused.json()).toHaveProperty("status");
});

/** A QI Tech call with this tenant's API key (the key is the tenant). */
function qitech(method, path, body) {
  return fetch(sim.at(`/qitech${path}`), {
    method,
    headers: { Authorization: tenant.name, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

test("QI Tech: an envelope signed through its link sends a signed envelope_completed webhook", async (ctx) => {
  // The webhook goes to a receiver inside the simulator: nothing to listen on here.
  const hook = sim.capture();
  await orSkip(ctx, () => hook.requests());
  const pdf = await orSkip(ctx, () => sim.samplePdf());
  const configured = await sim.admin("POST", "/qitech/webhook", {
    json: { api_key: tenant.name, url: hook.url, signature_key: "s3cr3t" },
  });
  expect(configured.status).toBe(200);

  const created = await qitech("POST", "/sign/envelope", {
    id: "vitest-1",
    subject: "Contrato",
    expiration_date: "2099-01-01",
    signers: [
      {
        id: "1",
        name: "Ana Vitest",
        email: "ana@example.com",
        birthdate: "1992-09-15",
        document_number: "111.111.111-11",
        phone: { international_dial_code: "55", area_code: "11", number: "988878722" },
        document_submission_method: "email",
        authentication_submission_method: "sms",
      },
    ],
  });
  expect(created.status).toBe(201);
  const added = await qitech("POST", "/sign/envelope/vitest-1/document", {
    document_b64: pdf.toString("base64"),
    name: "Contrato",
    document_type: "pdf",
  });
  expect(added.status).toBe(201);
  expect((await qitech("PATCH", "/sign/envelope/vitest-1", { status: "submitted" })).status).toBe(200);

  // The signer opens the link sent by e-mail, and signs with the token sent by SMS.
  const link = await tenant.lastLink("ana@example.com", { provider: "qitech" });
  expect((await fetch(link)).status).toBe(200);
  const signed = await sim.admin("POST", "/qitech/envelopes/vitest-1/signers/1/sign", {
    json: {
      api_key: tenant.name,
      cpf: "11111111111",
      token: await tenant.lastOtp(null, { provider: "qitech", channel: "sms" }),
    },
  });
  expect(signed.status).toBe(200);
  expect((await (await qitech("GET", "/sign/envelope/vitest-1")).json()).status).toBe("completed");

  // The webhook, as a receiver sees it: Signature = HMAC-SHA1(key, path + method + body).
  const delivery = await hook.next({ timeout: 30 });
  expect(delivery.method).toBe("POST");
  const expected = createHmac("sha1", "s3cr3t")
    .update(delivery.path + delivery.method + delivery.body)
    .digest("hex");
  expect(delivery.headers.signature).toBe(expected);
  expect(JSON.parse(delivery.body).webhook_type).toBe("envelope_completed");
});

test("a tenant's clock moves alone", async () => {
  const other = sim.tenant();
  const before = (await other.clock()).offset_seconds;
  expect((await tenant.advance(3600)).offset_seconds).toBe(3600);
  expect((await other.clock()).offset_seconds).toBe(before);
});

test("the CA certificate and a sample PDF are at hand", async (ctx) => {
  expect(await sim.caPem()).toMatch(/^-----BEGIN CERTIFICATE-----/);
  const pdf = await orSkip(ctx, () => sim.samplePdf({ pages: 2 }));
  expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
});

test("a capture records what reaches it, and its URL can fail on purpose", async (ctx) => {
  const hook = sim.capture();
  await orSkip(ctx, () => hook.requests());
  const flaky = hook.failing({ failFirst: 1 });
  const post = () =>
    fetch(flaky, { method: "POST", headers: { "content-type": "application/json" }, body: '{"n":1}' });
  expect((await post()).status).toBe(500);
  expect((await post()).status).toBe(200);
  const seen = await hook.waitFor({ count: 2 });
  expect(seen.map((r) => r.method)).toEqual(["POST", "POST"]);
  expect(seen[0].path).toBe(`/_signsim/capture/${hook.name}`);
  expect(seen[0].query).toBe("fail_first=1");
  expect(JSON.parse(seen[1].body)).toEqual({ n: 1 });
  await hook.clear();
  expect(await hook.requests()).toEqual([]);
});

/**
 * The simulator's browser pages: the H5 liveness page that real-person sessions link to (one
 * click passes or fails the check, then the browser goes to the session's callback URL), and
 * the placeholder picture that preview URLs point at. `ark-http.ts` routes `/h5/verify` and
 * `/files/…` here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UpstreamError } from '../upstream/errors.js';
import { readText } from './read-body.js';
import type { SimulatorState } from './state.js';

const MAX_FORM_BYTES = 1 << 20;

/** The simulated H5 liveness page: one click passes (or fails) the check. */
export async function handleH5(
  state: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  if (req.method === 'POST') {
    const form = new URLSearchParams(
      await readText(req, MAX_FORM_BYTES, () => new Error('The form is too large.')),
    );
    const token = form.get('token') ?? '';
    const outcome = form.get('outcome') === 'fail' ? 'fail' : 'pass';
    try {
      const { callbackUrl } = state.completeLiveness(token, outcome);
      res.writeHead(303, { location: callbackUrl, 'cache-control': 'no-store' }).end();
    } catch (error) {
      const message = error instanceof UpstreamError ? error.message : 'The check failed.';
      sendHtml(res, 400, page('Verification not possible', `<p>${escapeHtml(message)}</p>`));
    }
    return;
  }
  const token = query.get('token') ?? '';
  try {
    // The link stops working before the token does (`h5LinkTtlMs`); ⑫ still answers after.
    state.openLink(token);
  } catch (error) {
    const message = error instanceof UpstreamError ? error.message : 'The link does not work.';
    sendHtml(res, 410, page('Verification not possible', `<p>${escapeHtml(message)}</p>`));
    return;
  }
  sendHtml(
    res,
    200,
    page(
      'Simulated liveness check',
      `<p>This page stands in for the upstream's H5 liveness check. In the real flow the person
      logs in on a phone and films their face.</p>
      <form method="post">
        <input type="hidden" name="token" value="${escapeHtml(token)}">
        <button type="submit" name="outcome" value="pass" id="pass">I am this person: pass the check</button>
        <button type="submit" name="outcome" value="fail" id="fail">Fail the check</button>
      </form>`,
    ),
  );
}

/** Preview URLs point here: a placeholder picture standing in for the stored copy. */
export function sendPreview(res: ServerResponse, id: string): void {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">
<rect width="320" height="180" fill="#dde3ea"/><text x="160" y="95" font-family="sans-serif"
font-size="13" text-anchor="middle" fill="#334">${escapeHtml(id)}</text></svg>`;
  res.writeHead(200, { 'content-type': 'image/svg+xml', 'content-length': Buffer.byteLength(svg) });
  res.end(svg);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}
button{display:block;width:100%;margin:.75rem 0;padding:.9rem;font-size:1rem}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  });
  res.end(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

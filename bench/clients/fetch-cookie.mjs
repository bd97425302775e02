// fetch-cookie wrapping undici's fetch (it follows redirects itself so it can store each hop's
// Set-Cookie), with its default tough-cookie jar, on a keep-alive undici Agent.
import { Agent, fetch } from 'undici';
import makeFetchCookie from 'fetch-cookie';

let agent;
let fetchCookie;
export default {
  name: 'fetch-cookie (undici fetch)',
  order: 50,
  workloads: ['cookie3'],
  na: { ok: 'its cost without cookies is undici fetch', redirect3: 'its cost without cookies is undici fetch' },
  async setup() {
    agent = new Agent();
    fetchCookie = makeFetchCookie(fetch);
  },
  async run({ url }) {
    const res = await fetchCookie(url, { dispatcher: agent });
    return { status: res.status, body: await res.json() };
  },
  async teardown() {
    await agent.close();
  },
};

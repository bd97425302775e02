// Node's global fetch (the undici bundled inside Node, with its default global dispatcher).
export default {
  name: 'Node global fetch',
  order: 11,
  workloads: ['ok', 'redirect3'],
  na: { cookie3: 'no cookie jar' },
  async setup() {},
  async run({ url }) {
    const res = await globalThis.fetch(url);
    return { status: res.status, body: await res.json() };
  },
  async teardown() {},
};

// The hand-written redirect loop over undici.request: the floor for /redirect/3 and, with a
// tough-cookie jar, for /cookie-chain/3. Deliberately minimal (what a careful engineer would write
// for one known server): no policy beyond "3xx with Location → GET the resolved URL", so the
// distance between it and a full client is the price of that client's features.
import { request } from 'undici';

export async function handLoop(dispatcher, url, jar) {
  for (let hop = 0; hop <= 20; hop++) {
    const headers = jar ? { cookie: jar.getCookieStringSync(url) } : undefined;
    const { statusCode, headers: rh, body } = await request(url, { dispatcher, headers });
    if (jar) {
      const sc = rh['set-cookie'];
      if (sc !== undefined) {
        if (Array.isArray(sc)) for (const line of sc) jar.setCookieSync(line, url);
        else jar.setCookieSync(sc, url);
      }
    }
    if (statusCode >= 300 && statusCode < 400 && rh.location !== undefined) {
      await body.dump();
      url = new URL(rh.location, url).href;
      continue;
    }
    return { status: statusCode, body: await body.json() };
  }
  throw new Error('too many redirects');
}

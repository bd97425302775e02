/** `hopwise lab`: run the redirect lab in the foreground and print how to reach it. */
import { startLab, type Lab } from '../lab/index.js';
import { palette, shouldColor } from '../trace/render-text.js';
import { write, type CliIO } from './io.js';

export function labBanner(lab: Lab, color = false): string {
  const p = palette(color);
  const ct = lab.connectTo.map((r) => `--connect-to ${r}`).join(' ');
  const lines = [
    p.bold('hopwise lab is running') + p.dim(` (http ${lab.ports.http}, https ${lab.ports.https}, alt ${lab.ports.alt}; Ctrl-C to stop)`),
    '',
    `${p.bold('CA certificate')}  ${lab.caPath}`,
    `${p.bold('hopwise flags')}   ${ct} --cacert ${lab.caPath}`,
    `${p.bold('curl flags')}      ${ct} --cacert ${lab.caPath} -L`,
    `${p.bold('as a proxy')}      HTTPS_PROXY=${lab.proxyUrl} HTTP_PROXY=${lab.proxyUrl} REQUESTS_CA_BUNDLE=${lab.caPath}  (curl: -x ${lab.proxyUrl} --cacert ${lab.caPath})`,
    '',
    p.bold('Scenarios'),
  ];
  for (const s of lab.scenarios) {
    lines.push(`  ${String(s.item).padStart(2)}. ${p.bold(s.id.padEnd(18))} ${s.title}`);
    lines.push(`      ${p.cyan(s.entry)}`);
  }
  const first = lab.scenarios.find((s) => s.id === 'cross-origin-auth') ?? lab.scenarios[0];
  if (first) {
    lines.push('', p.bold('Try'));
    lines.push(`  hopwise doctor -H 'Authorization: Bearer t0ken' ${ct} --cacert ${lab.caPath} ${first.entry}`);
    lines.push(`  curl -sv -L -H 'Authorization: Bearer t0ken' ${ct} --cacert ${lab.caPath} ${first.entry}`);
  }
  return lines.join('\n') + '\n';
}

/** Runs until SIGINT/SIGTERM (or `until` resolves, for tests). */
export async function labCommand(opts: { host?: string; json: boolean }, io: CliIO, until?: Promise<void>): Promise<number> {
  const lab = await startLab(opts.host ? { host: opts.host } : {});
  if (opts.json) {
    write(
      io.stdout,
      JSON.stringify(
        {
          connectTo: lab.connectTo,
          proxyUrl: lab.proxyUrl,
          caPath: lab.caPath,
          ports: lab.ports,
          hosts: lab.hosts,
          scenarios: lab.scenarios.map((s) => ({ id: s.id, item: s.item, title: s.title, entry: s.entry })),
        },
        null,
        2,
      ),
    );
  } else {
    write(io.stdout, labBanner(lab, shouldColor(io.stdout, io.env)));
  }
  // the signal handlers are removed again, so running the command in-process leaves none behind
  let stop = () => {};
  await new Promise<void>((resolve) => {
    stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    until?.then(stop, stop);
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await lab.close();
  return 0;
}

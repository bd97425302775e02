/** Real HTTP clients from the system (Debian's python3-requests, curl), found once; tests skip without them. */
import { spawnSync } from 'node:child_process';

/** A Python interpreter that can `import requests`, or undefined. */
export const PYTHON_REQUESTS: string | undefined = ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import requests'], { stdio: 'ignore' }).status === 0);
export const NO_REQUESTS = 'no python3 with requests here (apt-get install python3-requests)';

export const CURL: string | undefined = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0 ? 'curl' : undefined;
export const NO_CURL = 'no curl here (apt-get install curl)';

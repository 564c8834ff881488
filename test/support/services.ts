import { randomBytes } from 'node:crypto';
import { type ServiceProcess, startFerretdb, startMotoServer } from './service-processes.ts';

// scripts/run-tests.mjs starts one moto server and one FerretDB per run and
// passes them in through these variables; a test file run on its own starts
// its own, stopped when its process exits.
const MOTO_ENDPOINT_VAR = 'LEDGERLAKE_TEST_MOTO_ENDPOINT';
const FERRETDB_URI_VAR = 'LEDGERLAKE_TEST_FERRETDB_URI';

let moto: Promise<string> | undefined;
let ferretdb: Promise<string> | undefined;

/** Endpoint of a moto server: LEDGERLAKE_TEST_MOTO_ENDPOINT if set, else starts `.venv/bin/moto_server` on a free loopback port for this process (stopped at process exit). */
export function motoEndpoint(): Promise<string> {
  moto ??= fromEnvOrStart(MOTO_ENDPOINT_VAR, startMotoServer);
  return moto;
}

/** mongodb:// URI of a FerretDB server: LEDGERLAKE_TEST_FERRETDB_URI if set, else starts .cache/bin/ferretdb with a temp SQLite dir. */
export function ferretdbUri(): Promise<string> {
  ferretdb ??= fromEnvOrStart(FERRETDB_URI_VAR, startFerretdb);
  return ferretdb;
}

/** Client config for AWS SDK v3 clients against moto (region us-east-1, static dummy credentials, forcePathStyle for S3). */
export function motoClientConfig(endpoint: string): {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
} {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
  };
}

const NAME_PREFIX = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** A unique name for test isolation (bucket/table/database names), lowercase, valid as an S3 bucket name. */
export function uniqueName(prefix: string): string {
  if (!NAME_PREFIX.test(prefix)) {
    throw new Error(
      `uniqueName prefix must be 1 to 40 lowercase letters, digits or hyphens, starting with a letter or digit, got '${prefix}'`,
    );
  }
  // 48 random bits: unique across the test processes of a run and across runs sharing one moto server.
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

async function fromEnvOrStart(variable: string, start: () => Promise<ServiceProcess>): Promise<string> {
  const fromEnv = process.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const service = await start();
  service.unref();
  stopAtExit(service);
  return service.url;
}

function stopAtExit(service: ServiceProcess): void {
  process.once('exit', () => service.stopNow());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      service.stopNow();
      // Without other listeners this process would now ignore the signal; end it the default way.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

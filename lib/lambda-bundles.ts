import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

/** Functions under lambdas/<name>/handler.ts. */
export const LAMBDA_NAMES = ['validate', 'plan', 'extract', 'commit'] as const;
export type LambdaName = (typeof LAMBDA_NAMES)[number];

/** The Lambda runtime the bundles target; the build machine may run Node 20, the functions run on 22. */
export const LAMBDA_NODE_TARGET = 'node22';

/**
 * Optional modules of the mongodb driver (Kerberos, client-side encryption,
 * compression, cloud auth helpers) that ledgerlake does not use; the driver
 * loads them lazily and copes with their absence.
 */
export const MONGODB_OPTIONAL_MODULES = [
  'kerberos',
  '@mongodb-js/zstd',
  '@aws-sdk/credential-providers',
  'gcp-metadata',
  'snappy',
  'socks',
  'aws4',
  'mongodb-client-encryption',
];

/** Left to the Lambda runtime (which ships the AWS SDK v3) or never loaded. */
export const LAMBDA_EXTERNAL_MODULES = ['@aws-sdk/*', ...MONGODB_OPTIONAL_MODULES];

/** CommonJS dependencies call require(); ESM output needs it defined. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

const repoRoot = join(import.meta.dirname, '..');

/** Entry point of one function, for bundlers (esbuild here, NodejsFunction in the CDK app). */
export function lambdaEntry(name: LambdaName): string {
  return join(repoRoot, 'lambdas', name, 'handler.ts');
}

/**
 * Bundles one function into `<outDir>/index.mjs` (ESM, minified, with a
 * source map). The AWS SDK v3 is left to the Lambda runtime, which ships it.
 */
export async function bundleLambda(
  name: LambdaName,
  outDir: string,
): Promise<{ file: string; bytes: number; externalImports: string[] }> {
  const file = join(outDir, 'index.mjs');
  const result = await build({
    entryPoints: [lambdaEntry(name)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_NODE_TARGET,
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    external: LAMBDA_EXTERNAL_MODULES,
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'silent',
    metafile: true,
  });
  const externalImports = Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.filter((i) => i.external).map((i) => i.path),
  );
  return { file, bytes: (await stat(file)).size, externalImports: [...new Set(externalImports)].sort() };
}

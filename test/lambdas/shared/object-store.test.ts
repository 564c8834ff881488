import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { type ObjectStore, S3ObjectStore } from '../../../lambdas/shared/object-store.ts';
import { FsObjectStore } from '../../../lib/local/fs-object-store.ts';
import { motoClientConfig, motoEndpoint, uniqueName } from '../../support/services.ts';

let scratch: string;
const cleanups: (() => Promise<void>)[] = [];
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'object-store-'));
});
after(async () => {
  for (const cleanup of cleanups) await cleanup();
  await rm(scratch, { recursive: true, force: true });
});

const implementations: { name: string; create(): Promise<ObjectStore> }[] = [
  {
    name: 'S3 (moto)',
    async create() {
      const s3 = new S3Client(motoClientConfig(await motoEndpoint()));
      cleanups.push(async () => s3.destroy());
      const bucket = uniqueName('warehouse');
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      return new S3ObjectStore(s3, bucket);
    },
  },
  { name: 'a local folder', create: async () => new FsObjectStore(await mkdtemp(join(scratch, 'fs-'))) },
];

for (const implementation of implementations) {
  describe(`object store on ${implementation.name}`, () => {
    it('writes "if absent" only once', async () => {
      const store = await implementation.create();
      assert.equal(await store.putJsonIfAbsent('staging/a/plan.json', { v: 1 }), true);
      assert.equal(await store.putJsonIfAbsent('staging/a/plan.json', { v: 2 }), false);
      assert.deepEqual(await store.getJson('staging/a/plan.json'), { v: 1 });
      assert.equal(await store.getJson('staging/a/missing.json'), undefined);
    });

    it('lists keys by prefix, including part of a name, and deletes them', async () => {
      const store = await implementation.create();
      const file = join(scratch, `${uniqueName('part')}.parquet`);
      await writeFile(file, 'PAR1');
      for (const key of [
        's/c/run=1/chunk-00000-00000.parquet',
        's/c/run=1/chunk-00000-00001.parquet',
        's/c/run=1/chunk-00001-00000.parquet',
        's/c/run=10/x.parquet',
      ]) {
        await store.uploadFile(file, key);
      }
      assert.deepEqual(await store.listKeys('s/c/run=1/chunk-00000-'), [
        's/c/run=1/chunk-00000-00000.parquet',
        's/c/run=1/chunk-00000-00001.parquet',
      ]);
      assert.equal((await store.listKeys('s/c/run=1/')).length, 3);
      await store.deleteKeys(['s/c/run=1/chunk-00000-00001.parquet']);
      assert.deepEqual(await store.listKeys('s/c/run=1/chunk-00000-'), [
        's/c/run=1/chunk-00000-00000.parquet',
      ]);
      assert.deepEqual(await store.listKeys('nothing/here/'), []);
    });
  });
}

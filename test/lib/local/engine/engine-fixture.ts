import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Document } from 'mongodb';
import { resolveConfig } from '../../../../lib/config/index.ts';
import { stagingLayout } from '../../../../lib/contracts/index.ts';
import type { EngineContext } from '../../../../lib/local/engine/index.ts';
import { FsCatalog } from '../../../../lib/local/iceberg/catalog.ts';
import type { ModelDefinition } from '../../../../lib/model/definition.ts';
import { buildTableModel } from '../../../../lib/model/index.ts';
import { INGEST, stageDocuments } from '../../curate/brief-fixture.ts';

/**
 * An engine over a fresh warehouse in `dir`, staging under `stagingRoot`
 * (`dir/store` by default), with the checked-in model or `definition`'s.
 */
export async function engineIn(
  dir: string,
  stagingRoot = join(dir, 'store'),
  definition?: ModelDefinition,
): Promise<EngineContext> {
  const config = resolveConfig();
  return {
    config,
    model: buildTableModel(config, definition),
    catalog: new FsCatalog(join(dir, 'warehouse')),
    connection: await (await DuckDBInstance.create(':memory:')).connect(),
    stagingRoot,
  };
}

/** Stages documents for a run where extraction would put them, read at `ingestTsMicros` (the brief's time by default). */
export async function stageRun(
  context: EngineContext,
  runId: string,
  documents: Readonly<Record<string, readonly Document[]>>,
  ingestTsMicros: bigint = INGEST,
): Promise<void> {
  for (const [collection, docs] of Object.entries(documents)) {
    const key = stagingLayout.dataFile(context.config.app, collection, runId, 0, 0);
    const file = join(context.stagingRoot, key);
    await mkdir(join(file, '..'), { recursive: true });
    await stageDocuments(
      collection,
      docs,
      file,
      runId,
      join(context.stagingRoot, '..'),
      ingestTsMicros,
      context.model,
    );
  }
}

/** Rows of a relation, values as JSON-ready JS (decimals via CAST to text in `columns`). */
export async function query(context: EngineContext, sql: string): Promise<Record<string, unknown>[]> {
  return (await context.connection.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

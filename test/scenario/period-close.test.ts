import { periodCloseScenario } from './period-close.ts';

// The period-close scenario on the local engine (DuckDB); period-close-spark.test.ts runs it on the generated Glue scripts.
periodCloseScenario('duckdb', 120);
